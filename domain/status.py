"""Reading status on both sides and the mapping table between them (sync-rules "Status mapping")."""

from __future__ import annotations

from enum import Enum


class ReadingStatus(Enum):
    """Where a person is with a book, independent of which reader they used."""

    UNOPENED = "UNOPENED"
    READING = "READING"
    FINISHED = "FINISHED"
    ABANDONED = "ABANDONED"


KOBO_UNREAD = 0
KOBO_READING = 1
KOBO_FINISHED = 2

KOREADER_READING = "reading"
KOREADER_COMPLETE = "complete"
KOREADER_ABANDONED = "abandoned"


def status_from_kobo(read_status: int | None) -> ReadingStatus:
    """Nickel's ``ReadStatus``: 0 unread, 1 reading, 2 finished.

    3 (calibre's "Closed") and any other unknown value are read as reading: the book is neither
    unread nor finished, and kksync never writes such a value back.
    """
    if read_status is None or read_status == KOBO_UNREAD:
        return ReadingStatus.UNOPENED
    if read_status == KOBO_FINISHED:
        return ReadingStatus.FINISHED
    return ReadingStatus.READING


def status_to_kobo(status: ReadingStatus) -> int:
    """The ``ReadStatus`` a push writes: 2 when finished, else 1 (a push never writes 0)."""
    return KOBO_FINISHED if status is ReadingStatus.FINISHED else KOBO_READING


def status_from_koreader(summary_status: str | None, *, has_sidecar: bool) -> ReadingStatus:
    """KOReader's ``summary.status``; a book with a sidecar but no known status is being read.

    KOReader itself sets ``reading`` on open when the value is missing or unknown, so that is
    what the person would see in KOReader's file browser.
    """
    if not has_sidecar:
        return ReadingStatus.UNOPENED
    if summary_status == KOREADER_COMPLETE:
        return ReadingStatus.FINISHED
    if summary_status == KOREADER_ABANDONED:
        return ReadingStatus.ABANDONED
    return ReadingStatus.READING


def status_to_koreader(status: ReadingStatus) -> str:
    """The ``summary.status`` a pull writes (a pull always has progress, so never "new")."""
    if status is ReadingStatus.FINISHED:
        return KOREADER_COMPLETE
    if status is ReadingStatus.ABANDONED:
        return KOREADER_ABANDONED
    return KOREADER_READING


def at_kobo_resolution(status: ReadingStatus) -> ReadingStatus:
    """The status as Nickel can hold it: "on hold" does not exist there and is pushed as reading."""
    return ReadingStatus.READING if status is ReadingStatus.ABANDONED else status
