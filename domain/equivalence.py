"""When two positions are "the same" (sync-rules row 5) and when a side "changed" (rows 6-7)."""

from __future__ import annotations

from datetime import datetime

from domain.position import ReadingPosition
from domain.status import at_kobo_resolution

PROGRESS_TOLERANCE = 1e-9


def equivalent(a: ReadingPosition, b: ReadingPosition) -> bool:
    """Same status and same position at Kobo's resolution.

    Kobo's resolution is a koboSpan inside a chapter when both sides know one, else the whole
    percent Nickel stores. Comparing at the coarser side's resolution is what stops ping-pong:
    a position that only differs below what Nickel can hold cannot be "newer".
    """
    if at_kobo_resolution(a.status) is not at_kobo_resolution(b.status):
        return False
    la, lb = a.locator, b.locator
    if la is not None and lb is not None and la.kobo_span and lb.kobo_span:
        return la.spine_index == lb.spine_index and la.kobo_span == lb.kobo_span
    return a.whole_percent == b.whole_percent


def same_second(a: datetime | None, b: datetime | None) -> bool:
    """Timestamps equal to the second (both missing counts as equal)."""
    if a is None or b is None:
        return a is None and b is None
    return a.replace(microsecond=0) == b.replace(microsecond=0)


def unchanged(current: ReadingPosition | None, recorded: ReadingPosition | None) -> bool:
    """Whether a side still holds exactly what the ledger recorded after the last sync."""
    if current is None or recorded is None:
        return current is None and recorded is None
    return (
        current.status is recorded.status
        and abs(current.progress - recorded.progress) <= PROGRESS_TOLERANCE
        and same_second(current.updated_at, recorded.updated_at)
        and _locator_key(current) == _locator_key(recorded)
    )


def _locator_key(position: ReadingPosition) -> tuple[int, str | None, str | None] | None:
    """What identifies a locator; one with neither span nor xpointer says no more than the progress."""
    locator = position.locator
    if locator is None or (locator.kobo_span is None and locator.xpointer is None):
        return None
    return (locator.spine_index, locator.kobo_span, locator.xpointer)
