"""Highlights, notes and bookmarks as both readers see them: the ``Annotation`` value object.

A position is side-neutral: the spine item (0-based) and the character offset inside that item's
text, counted in Unicode code points. Nickel's ``span#kobo.X.Y`` + offset and KOReader's
``pos0``/``pos1`` xpointers both map to it, so the same passage has the same ``TextRange`` on
either side and that range is how an annotation is recognised across sides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class AnnotationKind(enum.Enum):
    """Nickel's ``Type`` (``highlight``/``note``/``dogear``) and KOReader's drawer/note, unified."""

    HIGHLIGHT = "highlight"
    NOTE = "note"
    BOOKMARK = "bookmark"


@dataclass(frozen=True, order=True, slots=True)
class TextPoint:
    """A character boundary: ``offset`` code points into the text of spine item ``spine_index``."""

    spine_index: int
    offset: int

    def __post_init__(self) -> None:
        if self.spine_index < 0 or self.offset < 0:
            raise ValueError(f"a text point is never negative, got {self.spine_index}:{self.offset}")


@dataclass(frozen=True, order=True, slots=True)
class TextRange:
    """The characters from ``start`` (included) to ``end`` (excluded); a bookmark has start == end."""

    start: TextPoint
    end: TextPoint

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a range ends after it starts, got {self.start} .. {self.end}")


@dataclass(frozen=True, order=True, slots=True)
class AnnotationKey:
    """What makes two annotations the same one: where they are, and whether it is a bookmark."""

    range: TextRange
    bookmark: bool


@dataclass(frozen=True, slots=True)
class AnnotationContent:
    """What a person edits on an existing annotation: its note and its colour.

    A colour of None means "this side holds no colour" (Nickel before the ``Color`` column):
    it agrees with any colour instead of erasing it.
    """

    note: str | None = None
    color: str | None = None

    def __post_init__(self) -> None:
        if self.note == "":
            object.__setattr__(self, "note", None)

    def agrees_with(self, other: AnnotationContent) -> bool:
        """Same note, and the same colour wherever both hold one."""
        if self.note != other.note:
            return False
        return self.color is None or other.color is None or self.color == other.color


@dataclass(frozen=True, slots=True)
class Annotation:
    """One highlight, note or bookmark; times are timezone-aware UTC, or None when unknown.

    The kind of a passage follows its note: with a note it is a ``NOTE``, without a ``HIGHLIGHT``
    (as Nickel's ``Type`` does); a ``BOOKMARK`` stays one.
    """

    kind: AnnotationKind
    range: TextRange
    text: str = ""
    note: str | None = None
    color: str | None = None
    created: datetime | None = None
    modified: datetime | None = None

    def __post_init__(self) -> None:
        if self.note == "":
            object.__setattr__(self, "note", None)
        if self.kind is not AnnotationKind.BOOKMARK:
            object.__setattr__(self, "kind", AnnotationKind.NOTE if self.note else AnnotationKind.HIGHLIGHT)
        for moment in (self.created, self.modified):
            if moment is not None and moment.utcoffset() != timedelta(0):
                raise ValueError(f"annotation times must be timezone-aware UTC, got {moment!r}")

    @property
    def key(self) -> AnnotationKey:
        return AnnotationKey(self.range, self.kind is AnnotationKind.BOOKMARK)

    @property
    def content(self) -> AnnotationContent:
        return AnnotationContent(self.note, self.color)

    @property
    def last_change(self) -> datetime | None:
        """When it was last edited, or created if never edited."""
        return self.modified or self.created

    def with_content(self, content: AnnotationContent, modified: datetime | None) -> Annotation:
        """The same passage carrying ``content`` (the kind follows the note)."""
        return replace(self, note=content.note, color=content.color, modified=modified)
