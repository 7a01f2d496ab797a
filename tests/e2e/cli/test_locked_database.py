"""A Kobo database someone else holds locked: kksync says it waits, waits once, then gives up
(issue 15, point 3). The lock is held by another connection; the busy timeout is made short."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import MAIN_PULLS, MAIN_PUSHES, by_book, json_document, kksync

SHORT_WAIT = {"KKSYNC_BUSY_TIMEOUT_SECONDS": "1"}
WAITING = "waiting for Nickel…"


@contextmanager
def held(database: Path, how: str) -> Iterator[None]:
    """The database locked by another connection: ``IMMEDIATE`` (writers wait) or ``EXCLUSIVE`` (all wait)."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute(f"BEGIN {how}")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def _waits(stderr: str) -> int:
    return sum(1 for line in stderr.splitlines() if line.startswith(WAITING))


def test_backup_of_a_locked_database_waits_out_the_busy_timeout_then_says_why(
    main_device: CopyDevice,
) -> None:
    layout = main_device()
    with held(layout.database, "EXCLUSIVE"):
        result = kksync("backup", "--device", layout.root, env=SHORT_WAIT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert _waits(result.stderr) == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("kksync: ")]
    assert "locked" in line and "1 s" in line
    backups = layout.kksync_dir / "backups"
    assert not backups.exists() or list(backups.iterdir()) == []  # no .partial left behind


def test_a_sync_waits_once_for_nickel_and_gives_up_on_the_other_pushes(main_device: CopyDevice) -> None:
    layout = main_device()
    with held(layout.database, "IMMEDIATE"):
        result = kksync("sync", "--json", "--device", layout.root, env=SHORT_WAIT)
    assert result.returncode == 2, result.stderr
    assert _waits(result.stderr) == 1
    books = by_book(json_document(result))
    errors = [books[book_id]["error"] for book_id in MAIN_PUSHES]
    assert all(errors) and any("locked" in error for error in errors)
    assert any("did not wait again" in error for error in errors)
    assert all(books[book_id]["written"] for book_id in MAIN_PULLS)  # KOReader's side was still synced
    after = kksync("sync", "--json", "--device", layout.root, env=SHORT_WAIT)
    assert after.returncode == 0 and _waits(after.stderr) == 0  # once Nickel is done, it all goes through
    assert all(by_book(json_document(after))[book_id]["written"] for book_id in MAIN_PUSHES)


def test_a_sync_that_cannot_even_read_waits_once_and_says_so(main_device: CopyDevice) -> None:
    layout = main_device()
    with held(layout.database, "EXCLUSIVE"):
        result = kksync("sync", "--device", layout.root, env=SHORT_WAIT)
    assert result.returncode == 1
    assert _waits(result.stderr) == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("kksync: ")]
    assert "locked" in line and "Nickel" in line
