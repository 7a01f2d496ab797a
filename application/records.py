"""Plain records that cross the ports: what adapters read and what use cases ask them to write."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import overload

from domain.chapter_map import Chapter, ChapterMap
from domain.position import ReadingPosition

KOBO_PERCENT_TOTAL = 100.0
MTIME_RESOLUTION_S = 2.0
"""The coarsest mtime step of a file system a Kobo uses (FAT: 2 seconds)."""


class BookSource(Enum):
    """Where a book on the Kobo came from, told by its ContentID (docs/reference/kobo.md §2)."""

    KOMGA = "komga"
    CALIBRE_WEB = "calibre-web"
    KOBO_STORE = "kobo-store"
    SIDELOADED = "sideloaded"


class BookKind(Enum):
    """Which Nickel renderer reads the book, which decides what a position looks like."""

    KEPUB = "kepub"
    EPUB = "epub"
    PDF = "pdf"
    OTHER = "other"


EPUB_KINDS = (BookKind.KEPUB, BookKind.EPUB)


class FileState(Enum):
    """Whether KOReader (and kksync) can read the book file."""

    READABLE = "readable"
    MISSING = "missing"
    ENCRYPTED = "encrypted"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What ``stat`` says about a file, enough to notice that it was replaced or rewritten.

    ``settled`` is False when the file was modified within ``MTIME_RESOLUTION_S`` of the moment
    it was stat'ed: a second write in the same FAT 2-second tick could keep size and mtime, so
    such a stamp never vouches for anything (docs/performance.md, "Exact no-op"). It says when the
    stamp was taken, not what the file is, so it takes no part in equality: two reads of an
    unchanged file give equal records whichever side of the 2-second tick they fell on.

    No inode: Linux numbers a FAT file's inode when it first looks at it, so the number changes
    at every mount of the Kobo (and when the inode cache is pruned) while the file stays the
    same. A replaced file still shows in its ``ctime`` (a change time the kernel sets; on FAT
    the creation time, which a new download or copy gets afresh).
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    settled: bool = field(default=True, compare=False)

    def vouches_for(self, other: FileStamp | None) -> bool:
        """Whether a file that had ``other`` as its stamp is certainly unchanged now."""
        return other is not None and self.settled and other.settled and self == other


@dataclass(frozen=True, slots=True)
class FileCheck:
    """A book file's state as found when the file had ``stamp``: reusable while it still does."""

    stamp: FileStamp
    kind: BookKind
    state: FileState
    reason: str | None = None
    """Why the file cannot be synced (DRM, not a zip, ...); None when readable."""


@dataclass(frozen=True, slots=True)
class KoboBookmark:
    """``ChapterIDBookmarked`` split: the zip path of the spine file and the koboSpan in it.

    Adobe ``#point(...)`` and PDF ``#pdfloc(...)`` positions are kept opaque in ``raw``.
    """

    raw: str | None = None
    zip_path: str | None = None
    span: str | None = None
    point: str | None = None
    """Adobe's ``point(…)`` path inside ``zip_path`` (plain EPUBs), without the ``point(``/``)``."""


@dataclass(frozen=True, slots=True)
class KoboChapter:
    """A ContentType 9 row of a kepub: one spine item, offset and size in percent of the book."""

    content_id: str
    zip_path: str
    volume_index: int
    offset: float
    size: float
    percent_read: int | None = None


class KoboChapters(Sequence[KoboChapter]):
    """A kepub's chapter rows, made into ``KoboChapter`` records only when something reads them.

    A no-op sync reads ~20 chapter rows for each of thousands of books and needs none of them as
    records: an unchanged book is recognised by a digest of ``source`` (the rows as the database
    returned them, packed without loss by the adapter; see ``SyncService``'s seen key). Only a
    book that takes the full path converts its rows, once. Compares equal to any sequence of the
    same records.
    """

    __slots__ = ("_convert", "_records", "source")

    def __init__(self, source: tuple[object, ...], convert: Callable[[], tuple[KoboChapter, ...]]) -> None:
        self.source = source
        self._convert: Callable[[], tuple[KoboChapter, ...]] | None = convert
        self._records: tuple[KoboChapter, ...] | None = None

    @classmethod
    def of(cls, records: Iterable[KoboChapter]) -> KoboChapters:
        """Chapters already made (tests, builders): their own records are the source."""
        built = tuple(records)
        chapters = cls(built, tuple)
        chapters._records, chapters._convert = built, None
        return chapters

    @property
    def records(self) -> tuple[KoboChapter, ...]:
        if self._records is None:
            assert self._convert is not None
            self._records, self._convert = self._convert(), None
        return self._records

    @overload
    def __getitem__(self, index: int) -> KoboChapter: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[KoboChapter, ...]: ...
    def __getitem__(self, index: int | slice) -> KoboChapter | tuple[KoboChapter, ...]:
        return self.records[index]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[KoboChapter]:
        return iter(self.records)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KoboChapters) and other.source == self.source:
            return True
        return isinstance(other, Sequence) and self.records == tuple(other)

    def __hash__(self) -> int:
        return hash(self.records)

    def __repr__(self) -> str:
        return f"KoboChapters({self.records!r})"


NO_CHAPTERS = KoboChapters.of(())


@dataclass(frozen=True, slots=True)
class KoboBook:
    """A book row of Nickel's database with everything a sync needs."""

    book_id: str
    title: str | None
    author: str | None
    series: str | None
    source: BookSource
    kind: BookKind
    device_path: str
    file_path: Path
    file_state: FileState
    read_status: int = 0
    percent_read: int | None = None
    date_last_read: datetime | None = None
    bookmark: KoboBookmark = field(default_factory=KoboBookmark)
    chapters: Sequence[KoboChapter] = NO_CHAPTERS
    """Nickel's spine rows (kepubs only), as ``KoboChapters`` (a tuple of records is wrapped)."""
    series_number: str | None = None
    image_id: str | None = None
    file_problem: str | None = None
    """Why the file cannot be synced (missing, outside the device, DRM, ...); None when readable."""
    file_stamp: FileStamp | None = None
    """The book file's stamp when it was read (None when it is missing or cannot be stat'ed)."""

    def __post_init__(self) -> None:
        if not isinstance(self.chapters, KoboChapters):
            object.__setattr__(self, "chapters", KoboChapters.of(self.chapters))

    def chapter_source(self) -> tuple[object, ...]:
        """What the chapters were read from, for a digest of the book's inputs (``KoboChapters``)."""
        assert isinstance(self.chapters, KoboChapters)  # __post_init__ made sure
        return self.chapters.source

    def chapter_map(self) -> ChapterMap:
        """The spine as Nickel measured it; sizes re-derived from offsets when truncated."""
        return ChapterMap([Chapter(c.zip_path, c.offset, c.size) for c in self.chapters], KOBO_PERCENT_TOTAL)

    def chapters_are_measured(self) -> bool:
        """Whether Nickel's chapter rows say where chapters are (some offset or size is not 0)."""
        return any(c.offset > 0 or c.size > 0 for c in self.chapters)

    def chapter(self, zip_path: str | None) -> KoboChapter | None:
        return next((c for c in self.chapters if c.zip_path == zip_path), None)


@dataclass(frozen=True, slots=True)
class KoboWrite:
    """Exactly what a push writes to one book (sync-rules "Writing / Push").

    ``bookmark`` is the full ``ChapterIDBookmarked`` value, or None to leave it as it is
    (plain EPUBs and PDFs). ``chapter_content_id`` names the current chapter row whose
    ``___PercentRead`` becomes ``chapter_percent_read``.
    """

    percent_read: int
    read_status: int
    date_last_read: datetime
    bookmark: str | None = None
    chapter_content_id: str | None = None
    chapter_percent_read: int | None = None


OLDEST_DOM_VERSION = 20171225
"""What KOReader assumes for a sidecar with ``last_xpointer`` but no ``cre_dom_version``."""
NORMALIZED_XPOINTERS_DOM_VERSION = 20200223
"""From here on crengine writes V2 pointers (its wrapper elements hidden); before, V1."""
RELAXED_SPINE_DOM_VERSION = 20240114
"""From here on every spine item gets a DocFragment; before, only XHTML items crengine loads."""
COMPATIBLE_DOM_VERSION = 20240114
"""KOReader stable's engine: what a new sidecar gets, and what kksync assumes without one."""
ALWAYS_INDEXED_DOM_VERSION = 20260812
"""From here on crengine writes ``[1]`` on every step of a pointer."""
LEGACY_BLOCK_RENDERING = 0
"""KOReader's ``copt_block_rendering_mode`` for a book opened before the mode existed."""


@dataclass(frozen=True, slots=True)
class CreDom:
    """How KOReader's engine builds one book's DOM, which decides what its pointers look like.

    ``version`` is the sidecar's ``cre_dom_version``; ``block_rendering_mode`` is KOReader's
    ``copt_block_rendering_mode`` (0 legacy, 1 flat, 2 book, 3 web), None when it cannot be
    known (it only matters below ``NORMALIZED_XPOINTERS_DOM_VERSION``, where it decides
    whether floats are wrapped in ``floatBox`` elements that V1 pointers name).
    """

    version: int = COMPATIBLE_DOM_VERSION
    block_rendering_mode: int | None = 3

    @property
    def uses_v1_pointers(self) -> bool:
        return self.version < NORMALIZED_XPOINTERS_DOM_VERSION

    @property
    def always_indexed(self) -> bool:
        return self.version >= ALWAYS_INDEXED_DOM_VERSION


@dataclass(frozen=True, slots=True)
class KOReaderState:
    """What KOReader holds for one book: the sidecar it would load, and the history time."""

    document: Path
    sidecar: Path | None = None
    last_xpointer: str | None = None
    percent_finished: float | None = None
    last_percent: float | None = None
    status: str | None = None
    modified: str | None = None
    doc_pages: int | None = None
    partial_md5: str | None = None
    cre_dom_version: int | None = None
    history_time: datetime | None = None
    sidecar_mtime: datetime | None = None
    block_rendering_mode: int | None = None
    settings_reset: bool = False

    @property
    def exists(self) -> bool:
        return self.sidecar is not None

    @property
    def holds_progress(self) -> bool:
        """A sidecar with a position, percent or status; one kksync made for annotations alone has none."""
        return self.exists and any(
            value is not None
            for value in (self.last_xpointer, self.percent_finished, self.last_percent, self.status)
        )

    @property
    def dom(self) -> CreDom:
        """The DOM KOReader builds for this book next time it opens it (koreader.md §6.4).

        Without ``cre_dom_version``, a sidecar holding ``last_xpointer`` is read with the oldest
        DOM and, unless the sidecar says otherwise, legacy block rendering (KOReader's
        ReaderRolling/ReaderTypeset); anything else gets the version kksync writes with a pointer.
        """
        version = self.cre_dom_version
        if version is None:
            version = OLDEST_DOM_VERSION if self.last_xpointer else COMPATIBLE_DOM_VERSION
        mode = self.block_rendering_mode
        if mode is None:
            mode = LEGACY_BLOCK_RENDERING if self.last_xpointer and not self.settings_reset else None
        return CreDom(version, mode)

    @property
    def updated_at(self) -> datetime | None:
        """History time when a sidecar exists, else the sidecar's mtime; none without a sidecar."""
        if not self.exists:
            return None
        return self.history_time or self.sidecar_mtime


@dataclass(frozen=True, slots=True)
class KOReaderWrite:
    """Exactly what a pull writes into a sidecar; every other key is preserved.

    ``last_xpointer`` None leaves the key as it is (PDFs, where KOReader does not use it).
    ``modified`` is ``summary.modified`` as KOReader writes it (``YYYY-MM-DD``).
    """

    percent: float
    status: str
    modified: str
    last_xpointer: str | None = None


@dataclass(frozen=True, slots=True)
class SpineItem:
    """One spine entry of an EPUB, named as Nickel and KOReader name it."""

    zip_path: str
    fragment_index: int
    size: int
    linear: bool = True
    legacy_fragment_index: int | None = -1
    """Its DocFragment below DOM 20240114 (only loadable XHTML items had one); -1: same as now."""

    def fragment_at(self, dom_version: int) -> int | None:
        """The DocFragment number KOReader uses for this item at a DOM version (None: it has none)."""
        if dom_version < RELAXED_SPINE_DOM_VERSION and self.legacy_fragment_index != -1:
            return self.legacy_fragment_index
        return self.fragment_index


@dataclass(frozen=True, slots=True)
class PointerChoice:
    """The pointer a pull writes for an element; ``approximate`` says why it is not the element's own."""

    xpointer: str
    approximate: str | None = None


@dataclass(frozen=True, slots=True)
class XPointerTarget:
    """Where a KOReader xpointer lands: spine index (0-based), fraction inside, span at or before.

    ``resolved`` is False when only the DocFragment could be found and the position fell back to
    the chapter start.
    """

    spine_index: int
    fraction: float
    span: str | None
    resolved: bool
    note: str | None = None
    """Set when the pointer was resolved only to an enclosing element, and why."""


@dataclass(frozen=True, slots=True)
class SeenBook:
    """Both positions of a book as read last time, and a digest of every input they came from.

    A later run whose inputs hash to the same ``key`` would read the very same positions, so it
    reuses these instead of parsing the sidecar and opening the book (docs/performance.md).
    """

    key: str
    kobo: ReadingPosition
    koreader: ReadingPosition | None
    notes: tuple[str, ...] = ()
    file_check: FileCheck | None = None
