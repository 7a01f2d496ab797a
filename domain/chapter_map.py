"""Whole-book progress <-> (chapter, fraction inside the chapter).

Nickel stores each spine item's start and length as a percent of the book on its chapter rows.
Real databases are messy: sideloaded books carry truncated integer sizes that do not sum to 100,
some chapters have size 0, offsets can leave gaps or overlap. This module turns whatever rows
exist into contiguous, ordered extents so that every progress value lands in exactly one chapter.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

# How far (in offset units) an offset may stray from the running sum of sizes and still be that sum
# rounded: half a unit, plus a little float noise. A whole unit would let truncated sizes (which
# lose up to one unit per chapter) pass as precise ones.
SIZE_SLACK = 0.501


@dataclass(frozen=True, slots=True)
class Chapter:
    """A spine item as stored: where it starts and how long it is, in the map's units."""

    href: str
    offset: float
    size: float


@dataclass(frozen=True, slots=True)
class ChapterPoint:
    """A place inside one chapter: its spine index and the fraction 0..1 within it."""

    index: int
    fraction: float


@dataclass(frozen=True, slots=True)
class Extent:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


class ChapterMap:
    """Converts between whole-book progress (0..1) and a point inside a chapter.

    ``total`` is the length of the whole book in the chapters' units (100 for Nickel's percent
    rows); when omitted it is the end of the last chapter.
    """

    def __init__(self, chapters: Sequence[Chapter], total: float | None = None) -> None:
        self.chapters = tuple(chapters)
        self.extents = _extents(self.chapters, total)
        # The extents always reach ``total`` (and beyond it when chapters do), so the book ends
        # where the last extent does.
        self.total = self.extents[-1].end if self.extents else 0.0
        self._starts = [extent.start for extent in self.extents]

    def __len__(self) -> int:
        return len(self.chapters)

    def index_of(self, href: str) -> int | None:
        """Spine index of the chapter with this zip path, or None."""
        for index, chapter in enumerate(self.chapters):
            if chapter.href == href:
                return index
        return None

    def locate(self, progress: float) -> ChapterPoint | None:
        """The chapter holding this whole-book progress and the fraction inside it.

        Progress before the first chapter is its start; at or past the end it is the last
        chapter with any length, read to its end. Chapters of length 0 never hold a position.
        """
        if not any(extent.length > 0.0 for extent in self.extents):
            return None
        point = progress * self.total  # out-of-range progress ends up clamped by the fraction
        index = bisect.bisect_right(self._starts, point) - 1
        index = self._nearest_with_length(max(index, 0))
        extent = self.extents[index]
        fraction = (point - extent.start) / extent.length
        return ChapterPoint(index, min(max(fraction, 0.0), 1.0))

    def progress_at(self, index: int, fraction: float) -> float:
        """Whole-book progress of a point inside chapter ``index`` (clamped to 0..1)."""
        if not 0 <= index < len(self.extents) or self.total <= 0.0:
            raise IndexError(f"no chapter {index} in a map of {len(self.extents)}")
        extent = self.extents[index]
        point = extent.start + min(max(fraction, 0.0), 1.0) * extent.length
        # Mathematically point <= total already; the clamp guards against a last-bit rounding
        # that would make ReadingPosition refuse the result.
        return min(max(point / self.total, 0.0), 1.0)

    def _nearest_with_length(self, index: int) -> int:
        """Step back over zero-length chapters; before the first real one, take that one."""
        for candidate in range(index, -1, -1):
            if self.extents[candidate].length > 0.0:
                return candidate
        return next(i for i, extent in enumerate(self.extents) if extent.length > 0.0)


def _extents(chapters: Sequence[Chapter], total: float | None) -> list[Extent]:
    if not chapters:
        return []
    if _sizes_are_reliable(chapters, total):
        return _extents_from_sizes(chapters, total)
    return _extents_from_offsets(chapters, total)


def _sizes_are_reliable(chapters: Sequence[Chapter], total: float | None) -> bool:
    """Sizes are trusted when they add up to the book and agree with the rounded offsets.

    Store kepubs carry real sizes summing to 100 with offsets equal to their rounded running
    sum; sizes are then more precise than offsets. Truncated sizes (sideloaded books) fail
    this test and the offsets are used instead.
    """
    if any(chapter.size < 0 for chapter in chapters):
        return False
    running = 0.0
    for chapter in chapters:
        if abs(chapter.offset - running) > SIZE_SLACK:
            return False
        running += chapter.size
    return running > 0.0 and (total is None or abs(running - total) <= SIZE_SLACK)


def _extents_from_sizes(chapters: Sequence[Chapter], total: float | None) -> list[Extent]:
    """Chapters laid end to end by size; the last one reaches the book's end.

    Sizes may sum to slightly less than ``total`` (rounding); that sliver after the last chapter
    belongs to it, as any gap belongs to the chapter before it, so every progress has an exact
    place and converting back gives the same progress.
    """
    starts = []
    running = 0.0
    for chapter in chapters:
        starts.append(running)
        running += chapter.size
    end = running if total is None else max(running, total)
    return [Extent(start, stop) for start, stop in pairwise([*starts, end])]


def _extents_from_offsets(chapters: Sequence[Chapter], total: float | None) -> list[Extent]:
    """Each chapter runs from its offset to the next chapter's offset (the last to the end).

    Offsets that go backwards are clamped so the extents stay ordered; a gap after a chapter
    belongs to that chapter, so a position in it never jumps to another chapter.
    """
    starts: list[float] = []
    for chapter in chapters:
        start = max(chapter.offset, 0.0)
        starts.append(max(start, starts[-1]) if starts else start)
    natural_end = max(chapter.offset + max(chapter.size, 0.0) for chapter in chapters)
    end = max(total if total is not None else natural_end, starts[-1])
    return [Extent(start, stop) for start, stop in pairwise([*starts, end])]
