"""The ports the use cases need, as ``typing.Protocol``s. Adapters implement them; fakes in tests do too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from application.annotation_records import (
    KoboAnnotationChanges,
    KoboAnnotationRow,
    KOReaderAnnotationChanges,
    KOReaderAnnotations,
    KOReaderPointers,
    PlacedKoboRange,
)
from application.records import (
    CreDom,
    FileCheck,
    KoboBook,
    KoboWrite,
    KOReaderState,
    KOReaderWrite,
    PointerChoice,
    SeenBook,
    SpineItem,
    XPointerTarget,
)
from application.reports import Question
from domain.annotation import Annotation, TextRange
from domain.chapter_map import ChapterMap
from domain.decision import AgreedState


class KoboLibrary(Protocol):
    """Nickel's ``KoboReader.sqlite``."""

    def books(self, known: Mapping[str, FileCheck] | None = None) -> list[KoboBook]:
        """Every book row with its chapters and reading state, in a constant number of queries.

        ``known`` holds earlier checks of book files by book; a check whose stamp still matches
        the file is reused instead of opening the file again.
        """
        ...

    def file_checks(self) -> dict[str, FileCheck]:
        """The book-file checks of the last ``books`` read, by book (to be passed back next run)."""
        ...

    def book(self, book_id: str) -> KoboBook | None:
        """One book by ContentID, or None when Nickel does not know it."""
        ...

    def write(self, book_id: str, change: KoboWrite) -> None:
        """Apply one push in one transaction; raise ``KoboDatabaseError`` and write nothing on failure."""
        ...

    def backup(self) -> Path:
        """Copy the database (with its WAL) to a timestamped, integrity-checked backup file."""
        ...

    def ensure_writable(self) -> None:
        """Raise ``ReadOnlyDatabase`` when the database or its file system cannot be written."""
        ...


class KOReaderLibrary(Protocol):
    """KOReader's sidecars and ``history.lua``."""

    def read(self, document: Path) -> KOReaderState:
        """The state KOReader would load for this book file (``sidecar`` None when there is none)."""
        ...

    def fingerprint(self, document: Path) -> str:
        """A digest of everything ``read`` depends on, cheap (no parsing): equal means an equal state."""
        ...

    def write(self, document: Path, change: KOReaderWrite) -> Path:
        """Write a pull into the sidecar KOReader reads next; return the sidecar's path."""
        ...


class BookDocument(Protocol):
    """One EPUB/kepub file, parsed lazily."""

    @property
    def spine(self) -> Sequence[SpineItem]: ...

    def chapter_map(self) -> ChapterMap:
        """Each spine item's share of the book, proportional to its uncompressed size."""
        ...

    def has_spans(self) -> bool:
        """Whether the book carries koboSpans (a kepub)."""
        ...

    def span_fraction(self, zip_path: str, span: str) -> float | None:
        """Fraction 0..1 inside the chapter where this span starts, or None if it is not there."""
        ...

    def span_at(self, zip_path: str, fraction: float) -> str | None:
        """The span at or just before this fraction of the chapter, or None without spans."""
        ...

    def span_xpointer(self, zip_path: str, span: str, dom: CreDom | None = None) -> str | None:
        """KOReader's xpointer of the span's element, or None if the span is not there."""
        ...

    def span_pointer(self, zip_path: str, span: str, dom: CreDom | None = None) -> PointerChoice | None:
        """The span's pointer as KOReader at ``dom`` writes it, or a documented enclosing one."""
        ...

    def point_fraction(self, zip_path: str, point: str) -> float | None:
        """Fraction 0..1 inside the chapter of an Adobe ``point(…)`` path, or None."""
        ...

    def point_pointer(self, zip_path: str, point: str, dom: CreDom | None = None) -> PointerChoice | None:
        """KOReader's pointer to the element at an Adobe ``point(…)`` path, or None."""
        ...

    def chapter_xpointer(self, zip_path: str, dom: CreDom | None = None) -> str | None:
        """``/body/DocFragment[N]/body`` for this spine file, or None if it is not in the spine."""
        ...

    def locate(self, xpointer: str, dom: CreDom | None = None) -> XPointerTarget | None:
        """Where an xpointer (read as KOReader at ``dom`` reads it) lands; None without its DocFragment."""
        ...


class BookContent(Protocol):
    """Book files on the device."""

    def open(self, path: Path) -> BookDocument:
        """Parse (at most once per run) or raise ``EncryptedBook`` / ``BookContentError``."""
        ...


class Ledger(Protocol):
    """The last state both sides agreed on, per book of this device."""

    def get(self, book_id: str) -> AgreedState | None: ...

    def all(self) -> dict[str, AgreedState]:
        """Every entry of this device, in one read (a run never queries per book)."""
        ...

    def record(self, book_id: str, state: AgreedState) -> None:
        """Store the agreed state; the ledger file is created only by the first record."""
        ...

    def seen(self) -> dict[str, SeenBook]:
        """What each book of this device looked like when last read (empty for an older ledger)."""
        ...

    def record_batch(self, agreed: Mapping[str, AgreedState], seen: Mapping[str, SeenBook]) -> None:
        """Store agreements and seen books in one transaction.

        Seen books are a cache kept beside the agreements: on their own they never create the
        ledger file, so a run with no agreement to record still leaves no trace.
        """
        ...

    def declined(self) -> dict[str, str]:
        """Per book, the token of the last question the person declined (the agreement is untouched)."""
        ...

    def decline(self, book_id: str, token: str) -> None:
        """Remember a declined question so it is asked again only once either side changes."""
        ...


class Prompter(Protocol):
    """Asks the person about a PROMPT decision."""

    def confirm(self, question: Question) -> bool | None:
        """True to apply, False to decline, None when nobody can be asked (the book is skipped)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


# -- annotations (docs/annotations.md) ------------------------------------------------------------


class KoboAnnotationStore(Protocol):
    """Highlights and notes in Nickel's ``Bookmark`` table."""

    def annotations(self, book_id: str) -> list[KoboAnnotationRow]:
        """The book's visible rows."""
        ...

    def chapter_ids(self, book_id: str) -> dict[str, str]:
        """Spine file -> ContentID of the chapter row Nickel draws highlights on."""
        ...

    def has_colours(self) -> bool:
        """Whether this database stores a highlight colour."""
        ...

    def revisions(self) -> dict[str, str]:
        """Per book, a value that changes whenever its rows are added, edited or deleted (one query)."""
        ...

    def apply(self, book_id: str, changes: KoboAnnotationChanges) -> None:
        """Write one book's changes in one transaction; raise and write nothing on failure."""
        ...


class KOReaderAnnotationStore(Protocol):
    """Highlights and notes in KOReader's sidecars."""

    def annotations(self, document: Path) -> KOReaderAnnotations: ...

    def writable_reason(self, document: Path) -> str | None:
        """Why this book's annotations cannot be written (legacy format, old DOM), else None."""
        ...

    def apply(self, document: Path, changes: KOReaderAnnotationChanges) -> Path | None:
        """Write one book's changes into its sidecar; return the sidecar, None if nothing changed."""
        ...


class PlacedDocument(Protocol):
    """One book's text, where both sides' positions are placed (raise ``AnnotationNotPlaced``)."""

    @property
    def has_spans(self) -> bool: ...

    def zip_path(self, spine_index: int) -> str: ...

    def text(self, where: TextRange) -> str: ...

    def from_kobo(
        self, zip_path: str, start_span: str, start_offset: int, end_span: str, end_offset: int
    ) -> TextRange: ...

    def to_kobo(self, where: TextRange) -> PlacedKoboRange: ...

    def from_koreader(self, pos0: str, pos1: str) -> TextRange: ...

    def to_koreader(self, where: TextRange) -> KOReaderPointers: ...


class AnnotationPlacer(Protocol):
    def open(self, path: Path) -> PlacedDocument:
        """The book's text; raises ``BookContentError`` when the file cannot be read."""
        ...


class AnnotationLedger(Protocol):
    """Per book, the annotations both sides agreed on after the last sync."""

    def agreed_annotations(self, book_id: str) -> list[Annotation]: ...

    def record_annotations(self, book_id: str, annotations: Sequence[Annotation]) -> None: ...
