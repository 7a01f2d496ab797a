"""Small builders that keep the domain tests readable: positions, times and policies by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import Action, Locator, ReadingPosition, ReadingStatus, SyncPolicy

READING = ReadingStatus.READING
FINISHED = ReadingStatus.FINISHED
UNOPENED = ReadingStatus.UNOPENED
ABANDONED = ReadingStatus.ABANDONED

BASE_TIME = datetime(2025, 2, 4, 17, 0, 0, tzinfo=UTC)


def minute(n: float) -> datetime:
    """A UTC time ``n`` minutes after a fixed reading session: tests compare times, never clocks."""
    return BASE_TIME + timedelta(minutes=n)


def position(
    progress: float,
    status: ReadingStatus = READING,
    *,
    at: float | None = None,
    span: str | None = None,
    spine: int = 0,
    xpointer: str | None = None,
) -> ReadingPosition:
    """A position; ``at`` is minutes after BASE_TIME, a span or xpointer adds a locator."""
    locator = None
    if span is not None or xpointer is not None:
        locator = Locator(spine, f"text/part{spine}.xhtml", 0.5, kobo_span=span, xpointer=xpointer)
    return ReadingPosition(progress, status, minute(at) if at is not None else None, locator)


def unopened() -> ReadingPosition:
    """A Kobo book never opened: ReadStatus 0 and 0 %."""
    return ReadingPosition(0.0, UNOPENED)


def policy_with(**cells: Action | bool) -> SyncPolicy:
    """A policy where every cell is NEVER except the ones given: proves which cell was consulted."""
    settings: dict[str, Action | bool] = {
        "from_kobo_newer": Action.NEVER,
        "from_kobo_older": Action.NEVER,
        "to_kobo_newer": Action.NEVER,
        "to_kobo_older": Action.NEVER,
    }
    settings.update(cells)
    return SyncPolicy(**settings)  # type: ignore[arg-type]
