"""ChapterMap on the shapes real Nickel databases hold (docs/reference/kobo.md section 3)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain import Chapter, ChapterMap, ChapterPoint

# Spine rows (offset, size) of a sideloaded kepub in the real fixture database: truncated
# integer sizes summing to 85, offsets from rounded running sums of the real sizes.
SUN_TZU = [
    (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 6), (8, 1), (9, 2), (12, 0), (12, 1), (14, 1),
    (16, 0), (16, 0), (17, 0), (17, 0), (18, 0), (19, 0), (19, 1), (20, 1), (22, 0), (22, 1),
    (24, 1), (25, 2), (28, 0), (28, 1), (30, 13), (43, 13), (57, 13), (70, 13), (84, 15), (99, 0),
    (99, 0),
]  # fmt: skip
TRANSLATORS_INTRO = 5  # the chapter Nickel marked 30 % read


def chapters(rows: Sequence[tuple[float, float]]) -> list[Chapter]:
    return [Chapter(f"text/part{index}.xhtml", offset, size) for index, (offset, size) in enumerate(rows)]


def kobo_map(rows: Sequence[tuple[float, float]]) -> ChapterMap:
    return ChapterMap(chapters(rows), total=100.0)


def located(book: ChapterMap, progress: float) -> tuple[int, object]:
    point = book.locate(progress)
    assert point is not None
    return point.index, point.fraction


def store_rows(sizes: list[float]) -> Sequence[tuple[float, float]]:
    """Store kepub rows: REAL sizes, each offset the rounded running sum of the sizes before it."""
    rows: list[tuple[float, float]] = []
    running = 0.0
    for size in sizes:
        rows.append((float(round(running)), size))
        running += size
    return rows


STORE_SIZES = [0.745, 6.821, 15.004, 25.05, 52.38]  # sums to 100.0, offsets 0, 1, 8, 23, 48


def test_store_book_chapters_start_where_the_real_sizes_say() -> None:
    book = kobo_map(store_rows(STORE_SIZES))
    assert [offset for offset, _ in store_rows(STORE_SIZES)] == [0, 1, 8, 23, 48]
    assert book.progress_at(1, 0.0) == pytest.approx(0.00745)
    assert book.progress_at(4, 0.0) == pytest.approx(0.4762)
    assert located(book, 0.009) == (1, pytest.approx((0.9 - 0.745) / 6.821))


def test_store_book_with_a_trailing_empty_row_like_nickel_writes() -> None:
    rows = [*store_rows(STORE_SIZES), (100.0, 0.0)]
    book = kobo_map(rows)
    assert book.locate(1.0) == ChapterPoint(4, 1.0)
    assert located(book, 0.5) == (4, pytest.approx((50 - 47.62) / 52.38))


def test_store_book_sizes_short_of_the_total_leave_the_rest_to_the_last_chapter() -> None:
    book = kobo_map(store_rows([30.0, 20.0, 49.6]))
    assert book.total == 100.0
    assert located(book, 0.998) == (2, pytest.approx(49.8 / 50))
    assert book.progress_at(2, 1.0) == 1.0


def test_sideloaded_book_uses_offsets_because_truncated_sizes_do_not_add_up() -> None:
    book = kobo_map(SUN_TZU)
    assert book.progress_at(TRANSLATORS_INTRO, 0.0) == pytest.approx(0.01)
    assert book.progress_at(TRANSLATORS_INTRO, 1.0) == pytest.approx(0.08)
    assert book.progress_at(29, 1.0) == pytest.approx(0.99)


def test_sideloaded_chapter_30_percent_read_is_about_2_8_percent_of_the_book() -> None:
    """Offset 1, size 6 (truncated; the next chapter starts at 8): 30 % in is about 2.8 %."""
    progress = kobo_map(SUN_TZU).progress_at(TRANSLATORS_INTRO, 0.30)
    assert abs(progress * 100 - 2.8) < 0.5
    assert located(kobo_map(SUN_TZU), progress) == (TRANSLATORS_INTRO, pytest.approx(0.30))


def test_an_isolated_chapter_whose_size_matches_the_next_offset_gives_exactly_2_8_percent() -> None:
    rows = [(0, 1), (1, 6), (7, 93)]
    assert kobo_map(rows).progress_at(1, 0.30) == pytest.approx(0.028)


def test_a_truncated_size_one_unit_short_does_not_move_the_chapter_boundary() -> None:
    """Real sizes 33.4, 33.3, 33.3 stored as 33, 33, 33 with offsets 0, 33, 67."""
    book = kobo_map([(0, 33), (33, 33), (67, 33)])
    assert located(book, 0.665) == (1, pytest.approx(33.5 / 34))
    assert book.progress_at(2, 0.0) == pytest.approx(0.67)


def test_zero_size_chapters_never_hold_a_position() -> None:
    book = kobo_map(SUN_TZU)
    for progress in (0.0, 0.005, 0.12, 0.16, 0.17, 0.5, 0.99, 0.995, 1.0):
        point = book.locate(progress)
        assert point is not None
        assert book.progress_at(point.index, 0.0) < book.progress_at(point.index, 1.0)


def test_progress_zero_is_the_start_of_the_first_chapter_with_length() -> None:
    """Sun Tzu's first five rows all start at 0; the fifth runs to the next offset, 1."""
    assert kobo_map(SUN_TZU).locate(0.0) == ChapterPoint(4, 0.0)
    assert kobo_map(store_rows(STORE_SIZES)).locate(0.0) == ChapterPoint(0, 0.0)


def test_progress_one_is_the_end_of_the_last_chapter_with_length() -> None:
    assert kobo_map(SUN_TZU).locate(1.0) == ChapterPoint(31, 1.0)
    assert kobo_map([(0, 50), (50, 50), (100, 0)]).locate(1.0) == ChapterPoint(1, 1.0)


def test_progress_outside_zero_to_one_is_clamped() -> None:
    book = kobo_map([(0, 50), (50, 50)])
    assert book.locate(-0.5) == ChapterPoint(0, 0.0)
    assert book.locate(1.5) == ChapterPoint(1, 1.0)
    assert book.progress_at(1, 2.0) == 1.0
    assert book.progress_at(0, -1.0) == 0.0


def test_a_zero_size_chapter_inside_a_store_book_is_skipped() -> None:
    book = kobo_map([(0, 40.0), (40, 0.0), (40, 60.0)])
    assert book.locate(0.4) == ChapterPoint(2, 0.0)
    assert located(book, 0.39) == (0, pytest.approx(39 / 40))
    assert book.progress_at(1, 0.7) == pytest.approx(0.4)


def test_a_gap_between_chapters_belongs_to_the_chapter_before_it() -> None:
    book = kobo_map([(0, 10), (20, 10), (40, 60)])
    assert located(book, 0.15) == (0, pytest.approx(0.75))
    assert located(book, 0.35) == (1, pytest.approx(0.75))


def test_overlapping_chapters_stay_in_spine_order() -> None:
    book = kobo_map([(0, 50), (40, 30), (30, 70)])
    starts = [book.progress_at(index, 0.0) for index in range(3)]
    assert starts == sorted(starts)
    assert located(book, 0.35) == (0, pytest.approx(35 / 40))
    assert located(book, 0.45) == (2, pytest.approx(5 / 60))
    assert book.progress_at(1, 0.5) == pytest.approx(0.4)


def test_an_offset_past_the_total_stretches_the_book_to_it() -> None:
    book = kobo_map([(0, 60), (120, 10)])
    assert book.total == 120
    assert located(book, 0.5) == (0, pytest.approx(0.5))
    assert book.locate(1.0) == ChapterPoint(0, 1.0)


def test_before_the_first_chapter_is_its_start() -> None:
    book = kobo_map([(20, 40), (60, 40)])
    assert book.locate(0.1) == ChapterPoint(0, 0.0)


def test_an_empty_chapter_list_locates_nothing() -> None:
    book = ChapterMap([], total=100.0)
    assert len(book) == 0
    assert book.total == 0.0
    assert book.locate(0.5) is None
    with pytest.raises(IndexError, match="no chapter 0 in a map of 0"):
        book.progress_at(0, 0.0)


def test_adobe_epub_rows_with_zero_offsets_and_sizes_locate_nothing() -> None:
    book = ChapterMap(chapters([(0, 0), (0, 0), (0, 0)]))
    assert book.locate(0.5) is None
    with pytest.raises(IndexError):
        book.progress_at(1, 0.5)


def test_chapters_without_any_length_locate_nothing() -> None:
    assert ChapterMap(chapters([(5, 0)])).locate(0.5) is None
    assert ChapterMap(chapters([(100, 0), (100, 0)]), total=100.0).locate(0.2) is None


@pytest.mark.parametrize("index", [-1, 3])
def test_progress_at_an_unknown_chapter_is_an_index_error(index: int) -> None:
    with pytest.raises(IndexError, match=f"no chapter {index} in a map of 3"):
        kobo_map([(0, 30), (30, 30), (60, 40)]).progress_at(index, 0.5)


def test_total_defaults_to_the_end_of_the_last_chapter() -> None:
    assert ChapterMap(chapters([(0, 10), (10, 30)])).total == 40
    assert ChapterMap(chapters([(0, 10), (30, 5)])).total == 35
    assert located(ChapterMap(chapters([(0, 3), (3, 4)])), 0.5) == (1, pytest.approx(0.125))


def test_chapters_are_found_by_their_zip_path() -> None:
    book = kobo_map([(0, 50), (50, 50)])
    assert len(book) == 2
    assert book.index_of("text/part1.xhtml") == 1
    assert book.index_of("text/part0.xhtml") == 0
    assert book.index_of("text/missing.xhtml") is None


def test_sizes_adding_up_to_more_than_the_book_are_not_trusted() -> None:
    book = kobo_map([(0, 60), (60, 60)])
    assert book.total == 100
    assert located(book, 0.5) == (0, pytest.approx(50 / 60))


def test_sizes_adding_up_to_far_less_than_the_book_are_not_trusted() -> None:
    """Rounded offsets with sizes summing to 90: the offsets place the chapters."""
    book = kobo_map([(0, 0.7), (1, 89.3)])
    assert book.progress_at(1, 0.0) == pytest.approx(0.01)


def test_a_negative_size_is_never_trusted() -> None:
    book = kobo_map([(0, 50), (50, -10), (40, 60)])
    assert book.progress_at(2, 0.0) == pytest.approx(0.5)
    assert located(book, 0.45) == (0, pytest.approx(0.9))


def test_chapters_whose_sizes_are_all_zero_are_placed_by_their_offsets() -> None:
    book = ChapterMap(chapters([(0, 0), (0.4, 0)]))
    assert located(book, 0.5) == (0, pytest.approx(0.5))


def test_sizes_are_trusted_whatever_the_unit_of_the_book() -> None:
    book = ChapterMap(chapters([(0, 0.3), (0.0, 0.5)]))
    assert book.total == pytest.approx(0.8)
    assert located(book, 0.25) == (0, pytest.approx(2 / 3))


def test_an_offset_half_a_unit_from_the_summed_sizes_is_still_a_rounding() -> None:
    """SIZE_SLACK is half a unit plus float noise: 0.501 is a rounding, 0.502 is not."""
    assert kobo_map([(0.501, 10.0), (10.0, 90.0)]).progress_at(1, 0.0) == pytest.approx(0.1)
    assert kobo_map([(0.501, 10.0), (10.0, 90.0)]).progress_at(0, 0.0) == 0.0
    assert kobo_map([(0.502, 10.0), (10.0, 90.0)]).progress_at(0, 0.0) == pytest.approx(0.00502)


def test_sizes_summing_to_the_total_within_half_a_unit_are_trusted() -> None:
    """0.2505 + 0.2505 is 0.501 short of 1.002 exactly (and 0.5015 short of 1.0025)."""
    trusted = ChapterMap(chapters([(0, 0.2505), (0.0, 0.2505)]), total=1.002)
    assert located(trusted, 0.1) == (0, pytest.approx(0.1002 / 0.2505))
    not_trusted = ChapterMap(chapters([(0, 0.2505), (0.0, 0.2505)]), total=1.0025)
    assert located(not_trusted, 0.1) == (1, pytest.approx(0.1))


def test_a_fraction_past_a_chapter_end_stays_in_that_chapter() -> None:
    book = kobo_map([(0, 50), (50, 50)])
    assert book.progress_at(0, 2.0) == 0.5
    assert book.progress_at(1, -1.0) == 0.5
