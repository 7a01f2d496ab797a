"""Where a person is in a book: ``Locator`` and ``ReadingPosition`` value objects."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.status import ReadingStatus


@dataclass(frozen=True, slots=True)
class Locator:
    """A position inside the book file, as precise as the side that produced it knows it.

    ``spine_index`` is 0-based in spine order; ``fraction`` is 0..1 inside that spine item.
    ``kobo_span`` is a koboSpan id (``kobo.12.3``) at or before the position, when known;
    ``xpointer`` is KOReader's crengine pointer, when known.
    """

    spine_index: int
    chapter_href: str
    fraction: float = 0.0
    kobo_span: str | None = None
    xpointer: str | None = None


@dataclass(frozen=True, slots=True)
class ReadingPosition:
    """One side's reading state for one book.

    ``progress`` is the fraction 0..1 of the whole book; ``updated_at`` is a timezone-aware UTC
    time (or None when the side does not know when it was last read).
    """

    progress: float
    status: ReadingStatus
    updated_at: datetime | None = None
    locator: Locator | None = None

    def __post_init__(self) -> None:
        if math.isnan(self.progress) or not 0.0 <= self.progress <= 1.0:
            raise ValueError(f"progress must be within 0..1, got {self.progress!r}")
        if self.updated_at is not None and self.updated_at.utcoffset() != timedelta(0):
            raise ValueError(f"updated_at must be timezone-aware UTC, got {self.updated_at!r}")

    @property
    def effective_progress(self) -> float:
        """Progress for comparisons: a finished book counts as read to the end."""
        return 1.0 if self.status is ReadingStatus.FINISHED else self.progress

    @property
    def holds_progress(self) -> bool:
        """Whether this side has anything worth syncing (an unopened book at 0 % holds none)."""
        return self.status is not ReadingStatus.UNOPENED or self.progress > 0.0

    @property
    def whole_percent(self) -> int:
        """The whole percent Nickel would store: rounded, never 100 unless finished."""
        if self.status is ReadingStatus.FINISHED:
            return 100
        return min(99, math.floor(self.progress * 100 + 0.5))

    def with_updated_at(self, updated_at: datetime | None) -> ReadingPosition:
        return replace(self, updated_at=updated_at)
