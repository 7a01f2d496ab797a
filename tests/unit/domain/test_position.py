"""ReadingPosition as a value object: what it accepts and what it derives."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain import ReadingPosition
from tests.unit.domain.builders import ABANDONED, FINISHED, READING, UNOPENED, minute, position


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware UTC"):
        ReadingPosition(0.5, READING, datetime(2025, 2, 4, 17, 17, 15))


def test_non_utc_offsets_are_rejected() -> None:
    paris = timezone(timedelta(hours=1))
    with pytest.raises(ValueError, match="UTC"):
        ReadingPosition(0.5, READING, datetime(2025, 2, 4, 18, 17, 15, tzinfo=paris))


def test_utc_and_zero_offset_zones_are_accepted() -> None:
    assert ReadingPosition(0.5, READING, datetime(2025, 2, 4, tzinfo=UTC)).updated_at is not None
    zero = timezone(timedelta(0), "Z")
    assert ReadingPosition(0.5, READING, datetime(2025, 2, 4, tzinfo=zero)).updated_at is not None


@pytest.mark.parametrize("progress", [-0.0001, 1.0001, math.nan, math.inf, -math.inf])
def test_progress_outside_zero_to_one_is_rejected(progress: float) -> None:
    with pytest.raises(ValueError, match=r"progress must be within 0\.\.1"):
        ReadingPosition(progress, READING)


@pytest.mark.parametrize("progress", [0.0, 1.0, 0.5])
def test_progress_bounds_are_accepted(progress: float) -> None:
    assert ReadingPosition(progress, READING).progress == progress


def test_a_finished_book_counts_as_read_to_the_end() -> None:
    assert position(0.3, FINISHED).effective_progress == 1.0
    assert position(0.3, READING).effective_progress == 0.3
    assert position(0.3, ABANDONED).effective_progress == 0.3


def test_only_an_unopened_book_at_zero_holds_no_progress() -> None:
    assert not position(0.0, UNOPENED).holds_progress
    assert position(0.01, UNOPENED).holds_progress
    assert position(0.0, READING).holds_progress
    assert position(0.0, FINISHED).holds_progress
    assert position(0.0, ABANDONED).holds_progress


def test_with_updated_at_keeps_everything_else() -> None:
    original = position(0.4, ABANDONED, span="kobo.2.1", spine=1, at=0)
    moved = original.with_updated_at(minute(5))
    assert moved.updated_at == minute(5)
    assert (moved.progress, moved.status, moved.locator) == (0.4, ABANDONED, original.locator)
    assert original.updated_at == minute(0)
