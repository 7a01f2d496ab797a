"""Annotations by name for the merge tests: a passage, a note, a colour, a time in minutes."""

from __future__ import annotations

from domain.annotation import Annotation, AnnotationKind, TextPoint, TextRange
from tests.unit.domain.builders import minute


def passage(start: int = 10, end: int = 40, spine: int = 2) -> TextRange:
    return TextRange(TextPoint(spine, start), TextPoint(spine, end))


def highlight(
    start: int = 10,
    end: int = 40,
    *,
    note: str | None = None,
    color: str | None = "yellow",
    at: float | None = 0,
    edited: float | None = None,
    spine: int = 2,
) -> Annotation:
    """A highlight (a note when ``note`` is given) created ``at`` minutes, edited ``edited`` minutes in."""
    kind = AnnotationKind.NOTE if note else AnnotationKind.HIGHLIGHT
    return Annotation(
        kind,
        passage(start, end, spine),
        text="some words",
        note=note,
        color=color,
        created=minute(at) if at is not None else None,
        modified=minute(edited) if edited is not None else None,
    )


def bookmark(offset: int = 10, spine: int = 2) -> Annotation:
    return Annotation(AnnotationKind.BOOKMARK, passage(offset, offset, spine), created=minute(0))
