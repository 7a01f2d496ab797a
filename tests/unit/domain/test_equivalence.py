"""Row 5's equivalence at Kobo's resolution and rows 6-7's "changed since the ledger"."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import Locator, ReadingPosition, equivalent
from domain.equivalence import same_second, unchanged
from tests.unit.domain.builders import ABANDONED, FINISHED, READING, UNOPENED, minute, position


def test_same_chapter_and_span_is_equivalent_whatever_the_percents() -> None:
    a = position(0.381, span="kobo.7.2", spine=3)
    b = position(0.395, span="kobo.7.2", spine=3)
    assert equivalent(a, b)


def test_same_span_id_in_another_chapter_is_not_equivalent() -> None:
    a = position(0.38, span="kobo.7.2", spine=3)
    b = position(0.38, span="kobo.7.2", spine=4)
    assert not equivalent(a, b)


def test_another_span_in_the_same_chapter_is_not_equivalent_even_at_the_same_percent() -> None:
    a = position(0.38, span="kobo.7.2", spine=3)
    b = position(0.38, span="kobo.7.3", spine=3)
    assert not equivalent(a, b)


def test_same_whole_percent_without_spans_is_equivalent() -> None:
    assert equivalent(position(0.384), position(0.376))
    assert equivalent(position(0.38, xpointer="/body/DocFragment[4]/body/p[3]"), position(0.3849))


def test_different_whole_percent_without_spans_is_not_equivalent() -> None:
    assert not equivalent(position(0.384), position(0.386))


def test_a_span_on_one_side_only_compares_whole_percents() -> None:
    assert equivalent(position(0.38, span="kobo.7.2", spine=3), position(0.381, xpointer="/body/p[1]"))
    assert not equivalent(position(0.38, span="kobo.7.2", spine=3), position(0.39))


def test_an_empty_span_counts_as_unknown() -> None:
    a = position(0.38, span="", spine=3)
    b = position(0.381, span="", spine=5)
    assert equivalent(a, b)
    assert not equivalent(position(0.38, span="", spine=3), position(0.42, span="", spine=3))


def test_abandoned_equals_reading_at_kobo_resolution() -> None:
    assert equivalent(position(0.5, ABANDONED), position(0.5, READING))
    assert equivalent(position(0.5, READING), position(0.5, ABANDONED))


def test_different_statuses_are_not_equivalent_at_the_same_percent() -> None:
    assert not equivalent(position(0.0, UNOPENED), position(0.0, READING))
    assert not equivalent(position(1.0, READING), position(1.0, FINISHED))


def test_rounding_at_99_5_percent_never_makes_a_reading_book_look_finished() -> None:
    reading = position(0.995)
    assert reading.whole_percent == 99
    assert position(1.0).whole_percent == 99
    assert not equivalent(reading, position(0.995, FINISHED))
    assert equivalent(reading, position(0.99))


def test_finished_is_100_percent_whatever_its_progress() -> None:
    assert position(0.0, FINISHED).whole_percent == 100
    assert position(0.42, FINISHED).whole_percent == 100


def test_whole_percent_rounds_half_up() -> None:
    assert position(0.125).whole_percent == 13
    assert position(0.375).whole_percent == 38
    assert position(0.3749).whole_percent == 37
    assert position(0.0).whole_percent == 0
    assert position(0.005).whole_percent == 1


def test_same_second_ignores_fractions_of_a_second() -> None:
    t = datetime(2025, 2, 4, 17, 17, 15, 999_999, tzinfo=UTC)
    assert same_second(t, t.replace(microsecond=0))
    assert not same_second(t, t.replace(second=16, microsecond=0))
    assert same_second(None, None)
    assert not same_second(t, None)
    assert not same_second(None, t)


def test_unchanged_tolerates_float_noise_in_progress() -> None:
    recorded = position(0.3, at=1)
    assert unchanged(position(0.3 + 1e-10, at=1), recorded)
    assert not unchanged(position(0.3 + 2e-9, at=1), recorded)
    assert not unchanged(position(0.3 - 2e-9, at=1), recorded)
    assert unchanged(position(1e-9), position(0.0))


def test_unchanged_compares_status_and_time_to_the_second() -> None:
    recorded = position(0.3, at=1)
    assert not unchanged(position(0.3, ABANDONED, at=1), recorded)
    assert not unchanged(position(0.3, at=2), recorded)
    moved_within_the_second = recorded.with_updated_at(minute(1).replace(microsecond=5))
    assert unchanged(moved_within_the_second, recorded)


def test_unchanged_compares_the_locator() -> None:
    recorded = position(0.3, span="kobo.1.1", xpointer="/body/p[1]", spine=2, at=1)
    assert unchanged(position(0.3, span="kobo.1.1", xpointer="/body/p[1]", spine=2, at=1), recorded)
    assert not unchanged(position(0.3, span="kobo.1.2", xpointer="/body/p[1]", spine=2, at=1), recorded)
    assert not unchanged(position(0.3, span="kobo.1.1", xpointer="/body/p[2]", spine=2, at=1), recorded)
    assert not unchanged(position(0.3, span="kobo.1.1", xpointer="/body/p[1]", spine=3, at=1), recorded)
    assert not unchanged(position(0.3, at=1), recorded)
    assert not unchanged(recorded, position(0.3, at=1))


def test_unchanged_ignores_what_the_ledger_does_not_key_on() -> None:
    """The fraction and href are derived from span/xpointer; they may be recomputed slightly."""
    base = Locator(2, "a.xhtml", 0.25, "kobo.1.1", "/body/p[1]")
    moved = Locator(2, "b.xhtml", 0.26, "kobo.1.1", "/body/p[1]")
    assert unchanged(ReadingPosition(0.3, READING, None, moved), ReadingPosition(0.3, READING, None, base))


def test_a_side_that_appears_or_disappears_has_changed() -> None:
    assert unchanged(None, None)
    assert not unchanged(position(0.3), None)
    assert not unchanged(None, position(0.3))
