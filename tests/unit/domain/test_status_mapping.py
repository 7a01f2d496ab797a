"""The status mapping table of docs/sync-rules.md, row by row, in both directions."""

from __future__ import annotations

import pytest

from domain import AgreedState, ReadingStatus, SyncPolicy, Transfer, decide
from domain.status import (
    at_kobo_resolution,
    status_from_kobo,
    status_from_koreader,
    status_to_kobo,
    status_to_koreader,
)
from tests.unit.domain.builders import ABANDONED, READING, position


def test_status_kobo_0_is_koreader_without_sidecar() -> None:
    assert status_from_kobo(0) is ReadingStatus.UNOPENED
    assert status_from_kobo(None) is ReadingStatus.UNOPENED
    assert status_from_koreader(None, has_sidecar=False) is ReadingStatus.UNOPENED
    assert status_from_koreader("complete", has_sidecar=False) is ReadingStatus.UNOPENED


def test_status_kobo_1_is_koreader_reading() -> None:
    assert status_from_kobo(1) is ReadingStatus.READING
    assert status_from_koreader("reading", has_sidecar=True) is ReadingStatus.READING
    assert status_to_koreader(ReadingStatus.READING) == "reading"
    assert status_to_kobo(ReadingStatus.READING) == 1


def test_status_kobo_2_is_koreader_complete() -> None:
    assert status_from_kobo(2) is ReadingStatus.FINISHED
    assert status_from_koreader("complete", has_sidecar=True) is ReadingStatus.FINISHED
    assert status_to_koreader(ReadingStatus.FINISHED) == "complete"
    assert status_to_kobo(ReadingStatus.FINISHED) == 2


@pytest.mark.parametrize("read_status", [3, 4, -1, 99])
def test_status_kobo_3_and_unknown_values_are_read_as_reading(read_status: int) -> None:
    assert status_from_kobo(read_status) is ReadingStatus.READING


@pytest.mark.parametrize("status", list(ReadingStatus))
def test_status_kobo_3_and_0_are_never_written(status: ReadingStatus) -> None:
    assert status_to_kobo(status) in (1, 2)


def test_status_koreader_abandoned_is_pushed_as_kobo_1() -> None:
    assert status_from_koreader("abandoned", has_sidecar=True) is ReadingStatus.ABANDONED
    assert status_to_kobo(ReadingStatus.ABANDONED) == 1
    assert at_kobo_resolution(ReadingStatus.ABANDONED) is ReadingStatus.READING


def test_status_pull_writes_kobo_status_over_koreader_abandoned() -> None:
    koreader = position(0.3, ABANDONED, at=0)
    agreed = AgreedState(position(0.3, at=0), koreader)
    decision = decide(position(0.5, READING, at=5), koreader, agreed, SyncPolicy())
    assert decision.transfer is Transfer.PULL
    assert decision.position is not None
    assert status_to_koreader(decision.position.status) == "reading"


def test_status_koreader_abandoned_is_written_back_on_pull_of_abandoned() -> None:
    assert status_to_koreader(ReadingStatus.ABANDONED) == "abandoned"


@pytest.mark.parametrize("summary_status", [None, "", "new", "Reading"])
def test_status_sidecar_without_known_status_is_reading(summary_status: str | None) -> None:
    """KOReader itself marks such a book "reading" when it opens it."""
    assert status_from_koreader(summary_status, has_sidecar=True) is ReadingStatus.READING


def test_status_pull_of_a_book_kobo_calls_unread_writes_reading() -> None:
    assert status_to_koreader(ReadingStatus.UNOPENED) == "reading"


@pytest.mark.parametrize("status", [ReadingStatus.UNOPENED, ReadingStatus.READING, ReadingStatus.FINISHED])
def test_status_nickel_holds_every_status_but_on_hold(status: ReadingStatus) -> None:
    assert at_kobo_resolution(status) is status
