"""Each side's stored annotations as domain ``Annotation``s, placed in the book's text.

A stored annotation is *placed* when its position maps to characters of the book and the text
the side saved for it is what lies there (compared without whitespace, which the two readers
count differently). Anything else is *unplaced*: listed and reported, never merged, written or
deleted, and its side counts as incomplete so that nothing agreed is deleted because of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from application.annotation_records import (
    AnnotationNotPlaced,
    KoboAnnotationRow,
    KOReaderAnnotationItem,
    UnplacedAnnotation,
)
from application.ports import PlacedDocument
from domain.annotation import Annotation, AnnotationKey, AnnotationKind, TextRange

KOREADER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
OBJECT_CHARACTER = "\ufffc"

# Nickel's Color column (newer firmware): 0 yellow, 1 pink, 2 blue, 3 green — the four colours
# Kobo's colour readers offer, in that order (unverified on a device: fw 4.38 has no column).
KOBO_COLOURS = {0: "yellow", 1: "red", 2: "blue", 3: "green"}
KOBO_COLOUR_OF = {
    "yellow": 0,
    "gray": 0,
    "red": 1,
    "orange": 1,
    "purple": 1,
    "blue": 2,
    "cyan": 2,
    "green": 3,
    "olive": 3,
}


def koreader_time(value: str | None) -> datetime | None:
    """KOReader's ``datetime`` is the device's local wall clock; read in this host's zone, as UTC."""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), KOREADER_TIME_FORMAT).astimezone(UTC)
    except ValueError:
        return None


def koreader_time_text(moment: datetime) -> str:
    """A UTC time as KOReader writes ``datetime``: this host's local wall clock, to the second."""
    return moment.astimezone().strftime(KOREADER_TIME_FORMAT)


def kobo_colour(value: int | None, agreed: str | None) -> str | None:
    """The colour a Nickel row holds; the agreed name when Nickel's value stands for it."""
    if value is None:
        return None
    if agreed is not None and KOBO_COLOUR_OF.get(agreed) == value:
        return agreed
    return KOBO_COLOURS.get(value)


def same_text(stored: str, found: str) -> bool:
    """Whether a side's saved text is the book's text there (whitespace and images aside)."""
    if not stored.strip():
        return True
    return "".join(stored.split()) == "".join(found.replace(OBJECT_CHARACTER, "").split())


@dataclass(frozen=True)
class PlacedKobo:
    annotation: Annotation
    row: KoboAnnotationRow


@dataclass(frozen=True)
class PlacedKOReader:
    annotation: Annotation
    item: KOReaderAnnotationItem


@dataclass
class PlacedSides:
    """One book's annotations from both sides, placed where possible."""

    kobo: list[PlacedKobo] = field(default_factory=list)
    koreader: list[PlacedKOReader] = field(default_factory=list)
    unplaced: list[UnplacedAnnotation] = field(default_factory=list)
    koreader_sidecar: Path | None = None
    koreader_legacy: bool = False

    @property
    def kobo_complete(self) -> bool:
        return not any(u.side == "kobo" for u in self.unplaced)

    @property
    def koreader_complete(self) -> bool:
        return not any(u.side == "koreader" for u in self.unplaced)

    def kobo_row(self, key: AnnotationKey) -> KoboAnnotationRow | None:
        return next((p.row for p in self.kobo if p.annotation.key == key), None)

    def koreader_item(self, key: AnnotationKey) -> KOReaderAnnotationItem | None:
        return next((p.item for p in self.koreader if p.annotation.key == key), None)


def place_kobo_row(
    row: KoboAnnotationRow, document: PlacedDocument, agreed: dict[AnnotationKey, Annotation]
) -> Annotation:
    """The row as an ``Annotation``, or ``AnnotationNotPlaced`` saying why not."""
    if row.zip_path is None:
        raise AnnotationNotPlaced(f"its chapter row {row.content_id} names no file of the book")
    start_span, end_span = row.start_span, row.end_span
    if start_span is None or end_span is None:
        raise AnnotationNotPlaced(f"{row.start_path} is not a koboSpan position (a plain EPUB's?)")
    where = document.from_kobo(row.zip_path, start_span, row.start_offset, end_span, row.end_offset)
    kind = AnnotationKind.BOOKMARK if row.kind == "bookmark" else AnnotationKind.HIGHLIGHT
    if kind is AnnotationKind.BOOKMARK:
        where = TextRange(where.start, where.start)
    elif not same_text(row.text, document.text(where)):
        raise AnnotationNotPlaced(f"its text is not the book's text at {start_span}:{row.start_offset}")
    previous = agreed.get(_key(where, kind))
    return Annotation(
        kind,
        where,
        text=row.text,
        note=row.note,
        color=kobo_colour(row.color, previous.color if previous else None),
        created=row.created,
        modified=row.modified,
    )


def place_koreader_item(item: KOReaderAnnotationItem, document: PlacedDocument) -> Annotation:
    """The item as an ``Annotation``, or ``AnnotationNotPlaced`` saying why not."""
    if item.is_bookmark:
        page = item.page if isinstance(item.page, str) else item.pos0
        if page is None:
            raise AnnotationNotPlaced("a page bookmark without an xpointer (a PDF's?)")
        start = document.from_koreader(page, page).start
        where = TextRange(start, start)
        kind = AnnotationKind.BOOKMARK
    else:
        if item.pos0 is None or item.pos1 is None:
            raise AnnotationNotPlaced("a highlight without pos0/pos1 xpointers (a PDF's?)")
        where = document.from_koreader(item.pos0, item.pos1)
        kind = AnnotationKind.HIGHLIGHT
        if not same_text(item.text, document.text(where)):
            raise AnnotationNotPlaced(f"its text is not the book's text at {item.pos0}")
    return Annotation(
        kind,
        where,
        text=item.text,
        note=item.note,
        color=item.color,
        created=koreader_time(item.datetime),
        modified=koreader_time(item.datetime_updated),
    )


def _key(where: TextRange, kind: AnnotationKind) -> AnnotationKey:
    return AnnotationKey(where, kind is AnnotationKind.BOOKMARK)


def unplaced_kobo(row: KoboAnnotationRow, reason: str) -> UnplacedAnnotation:
    return UnplacedAnnotation("kobo", row.text, reason, f"{row.zip_path or row.content_id} {row.start_path}")


def unplaced_koreader(item: KOReaderAnnotationItem, reason: str) -> UnplacedAnnotation:
    return UnplacedAnnotation("koreader", item.text, reason, item.pos0 or str(item.page or ""))
