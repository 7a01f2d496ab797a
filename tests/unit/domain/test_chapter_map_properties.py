"""Properties of ChapterMap over sane maps (contiguous, positive sizes) and over any rows at all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain import Chapter, ChapterMap
from tests.unit.domain.strategies import PROPERTY, any_chapters, any_totals

sizes = st.lists(st.one_of(st.integers(1, 30).map(float), st.floats(0.01, 50.0)), min_size=1, max_size=15)


@st.composite
def sane_maps(draw: st.DrawFn) -> ChapterMap:
    """Chapters contiguous from 0 with positive sizes, offsets exact or rounded like Nickel's."""
    chapter_sizes = draw(sizes)
    rounded = draw(st.booleans())
    chapters, running = [], 0.0
    for index, size in enumerate(chapter_sizes):
        chapters.append(Chapter(f"c{index}.xhtml", float(round(running)) if rounded else running, size))
        running += size
    return ChapterMap(chapters, total=draw(st.sampled_from([None, running])))


@st.composite
def maps_with_gaps(draw: st.DrawFn) -> tuple[ChapterMap, list[tuple[int, float, float]]]:
    """Chapters with real gaps after some of them; returns the map and (chapter, gap start, gap end)."""
    chapters, gaps, offset = [], [], 0.0
    for index in range(draw(st.integers(2, 10))):
        size = draw(st.one_of(st.integers(0, 20).map(float), st.floats(0.0, 20.0)))
        gap = draw(st.one_of(st.just(0.0), st.floats(1.01, 15.0), st.integers(2, 10).map(float)))
        chapters.append(Chapter(f"c{index}.xhtml", offset, size))
        if gap > 0.0:
            gaps.append((index, offset + size, offset + size + gap))
        offset += size + gap
    total = draw(st.sampled_from([None, offset, offset + 10.0]))
    return ChapterMap(chapters, total=total), gaps


@PROPERTY
@given(sane_maps(), st.floats(0.0, 1.0))
def test_progress_to_chapter_and_back_is_the_same_progress(book: ChapterMap, progress: float) -> None:
    point = book.locate(progress)
    assert point is not None
    assert abs(book.progress_at(point.index, point.fraction) - progress) <= 1e-9


@PROPERTY
@given(any_chapters, any_totals, st.floats(-0.5, 1.5), st.integers(-1, 12), st.floats(-1.0, 2.0))
def test_any_map_stays_within_zero_and_one(
    chapters: list[Chapter], total: float | None, progress: float, index: int, fraction: float
) -> None:
    book = ChapterMap(chapters, total)
    point = book.locate(progress)
    if point is not None:
        assert 0 <= point.index < len(book)
        assert 0.0 <= point.fraction <= 1.0
        assert 0.0 <= book.progress_at(point.index, point.fraction) <= 1.0
    try:
        converted = book.progress_at(index, fraction)
    except IndexError:
        assert not 0 <= index < len(book) or book.total <= 0.0
    else:
        assert 0.0 <= converted <= 1.0


@PROPERTY
@given(any_chapters, any_totals, st.floats(0.0, 1.0))
def test_locate_never_returns_a_zero_length_chapter_when_one_has_length(
    chapters: list[Chapter], total: float | None, progress: float
) -> None:
    book = ChapterMap(chapters, total)
    lengths = []
    if book.total > 0.0:
        lengths = [book.progress_at(i, 1.0) - book.progress_at(i, 0.0) for i in range(len(book))]
    point = book.locate(progress)
    if any(length > 0.0 for length in lengths):
        assert point is not None
        assert lengths[point.index] > 0.0
    else:
        assert point is None


@PROPERTY
@given(maps_with_gaps(), st.floats(0.001, 0.999))
def test_a_position_in_a_gap_belongs_to_a_chapter_before_the_gap(
    mapped: tuple[ChapterMap, list[tuple[int, float, float]]], where: float
) -> None:
    book, gaps = mapped
    for chapter, start, end in gaps:
        if end > book.total:  # a gap after the last chapter of a book without a stated total
            continue
        point = book.locate((start + where * (end - start)) / book.total)
        assert point is not None
        assert point.index <= chapter
