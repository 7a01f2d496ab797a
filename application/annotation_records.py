"""Annotations as each side stores them, before and after they are placed in the book's text.

``KoboAnnotationRow`` is one row of Nickel's ``Bookmark`` table, ``KOReaderAnnotationItem`` one
entry of a sidecar's ``annotations`` array (or of the pre-2024 ``highlight``/``bookmarks``
tables). The positions module turns their positions into the side-neutral ``TextRange`` of
``domain.annotation`` and back; ``PlacedKoboRange``/``KOReaderPointers`` are what comes back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from application.errors import KksyncError

_SPAN_SELECTOR = re.compile(r"^span#(kobo\\?\.\d+\\?\.\d+)$")


def span_of_selector(path: str) -> str | None:
    """``kobo.204.1`` from Nickel's CSS selector ``span#kobo\\.204\\.1``; None for other forms."""
    match = _SPAN_SELECTOR.match(path.strip())
    return None if match is None else match.group(1).replace("\\", "")


def selector_of_span(span: str) -> str:
    """Nickel's CSS selector for a koboSpan id, dots escaped as Nickel writes them."""
    return "span#" + span.replace(".", "\\.")


@dataclass(frozen=True, slots=True)
class KoboAnnotationRow:
    """One ``Bookmark`` row (docs/annotations.md "Nickel's rows"). Times are UTC or None.

    ``zip_path`` is the spine file of the chapter row ``content_id`` names; ``color`` is None
    when the database has no ``Color`` column.
    """

    bookmark_id: str
    book_id: str
    content_id: str
    zip_path: str | None
    start_path: str
    start_offset: int
    end_path: str
    end_offset: int
    kind: str
    text: str = ""
    note: str | None = None
    color: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    hidden: bool = False

    @property
    def start_span(self) -> str | None:
        return span_of_selector(self.start_path)

    @property
    def end_span(self) -> str | None:
        return span_of_selector(self.end_path)


@dataclass(frozen=True, slots=True)
class NewKoboAnnotation:
    """A row kksync creates: where it is (spans and offsets) and what it says."""

    bookmark_id: str
    content_id: str
    start_span: str
    start_offset: int
    end_span: str
    end_offset: int
    kind: str
    text: str
    note: str | None
    color: int | None
    chapter_progress: float
    created: datetime
    modified: datetime


@dataclass(frozen=True, slots=True)
class KoboAnnotationEdit:
    """A note or colour change to an existing row."""

    bookmark_id: str
    kind: str
    note: str | None
    color: int | None
    modified: datetime


@dataclass(frozen=True, slots=True)
class KoboAnnotationChanges:
    """Everything one book's sync writes to the ``Bookmark`` table, in one transaction."""

    added: tuple[NewKoboAnnotation, ...] = ()
    edited: tuple[KoboAnnotationEdit, ...] = ()
    deleted: tuple[str, ...] = ()  # BookmarkIDs

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.edited or self.deleted)


@dataclass(frozen=True, slots=True)
class KOReaderAnnotationItem:
    """One KOReader annotation; ``legacy`` when it comes from the pre-2024 tables (read only).

    ``datetime``/``datetime_updated`` are KOReader's local-time strings as stored; ``index``
    is the 1-based place in the ``annotations`` array (0 for legacy items).
    """

    index: int
    pos0: str | None
    pos1: str | None
    text: str = ""
    note: str | None = None
    drawer: str | None = None
    color: str | None = None
    datetime: str | None = None
    datetime_updated: str | None = None
    chapter: str | None = None
    page: str | int | None = None
    legacy: bool = False

    @property
    def is_bookmark(self) -> bool:
        """KOReader's rule: an annotation without a drawer is a page bookmark."""
        return self.drawer is None


@dataclass(frozen=True, slots=True)
class KOReaderAnnotations:
    """A book's KOReader annotations; ``legacy`` when they come from pre-2024 tables."""

    document: Path
    sidecar: Path | None = None
    items: tuple[KOReaderAnnotationItem, ...] = ()
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class NewKOReaderAnnotation:
    """An entry kksync adds to the ``annotations`` array."""

    pos0: str
    pos1: str
    text: str
    note: str | None
    color: str
    drawer: str
    datetime: str
    datetime_updated: str | None
    chapter: str | None = None


@dataclass(frozen=True, slots=True)
class KOReaderAnnotationEdit:
    """A note or colour change to the entry at ``pos0``/``pos1``."""

    pos0: str
    pos1: str
    note: str | None
    color: str | None
    datetime_updated: str


@dataclass(frozen=True, slots=True)
class KOReaderAnnotationChanges:
    """Everything one book's sync writes to its sidecar's ``annotations`` array."""

    added: tuple[NewKOReaderAnnotation, ...] = ()
    edited: tuple[KOReaderAnnotationEdit, ...] = ()
    deleted: tuple[tuple[str, str], ...] = ()  # (pos0, pos1)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.edited or self.deleted)


@dataclass(frozen=True, slots=True)
class PlacedKoboRange:
    """A range in Nickel's terms: the chapter's spine file, spans and offsets inside them."""

    zip_path: str
    start_span: str
    start_offset: int
    end_span: str
    end_offset: int
    chapter_progress: float


@dataclass(frozen=True, slots=True)
class KOReaderPointers:
    """A range in KOReader's terms: ``pos0`` (start) and ``pos1`` (end, exclusive) xpointers."""

    pos0: str
    pos1: str


@dataclass(frozen=True, slots=True)
class UnplacedAnnotation:
    """An annotation whose position could not be made exact: never written, always reported."""

    side: str
    text: str
    reason: str
    where: str = ""


class AnnotationNotPlaced(KksyncError):
    """A position that cannot be made exact on the other side; the annotation is reported, not written."""
