"""Opening ``KoboReader.sqlite`` through SQLAlchemy without getting in Nickel's way.

- ``mode=rw``: a wrong path fails instead of creating an empty database.
- ``NullPool``: no connection (and no open file handle) outlives an operation, so the Kobo can
  be ejected and Nickel is never kept waiting by an idle connection.
- pysqlite's implicit transactions are switched off; every transaction is begun explicitly:
  ``BEGIN`` (deferred) for reads, so they take only a shared lock and only while they run, and
  ``BEGIN IMMEDIATE`` for writes, so the write lock is taken up front and a busy Nickel is
  noticed before anything is changed. SQLite's busy handler waits up to the busy timeout.
- Nothing here issues ``PRAGMA journal_mode`` or any other setting that persists in the file.
- With an ``on_wait`` callback, a transaction first tries its lock without waiting; only when
  Nickel holds it is the callback called (to say "waiting for Nickel…") before the same lock is
  waited for, up to the busy timeout. A wait is never silent, and an idle Kobo costs nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

IMMEDIATE = "kksync_begin_immediate"
SHARED_LOCK_PROBE = "SELECT 1 FROM sqlite_master LIMIT 1"
"""Takes a read transaction's shared lock at once, instead of at its first real query."""

OnWait = Callable[[], None]


def open_engine(database: Path, busy_timeout_seconds: float, on_wait: OnWait | None = None) -> Engine:
    """An engine on an existing Nickel database whose transactions kksync begins itself."""
    uri = database.resolve().as_uri() + "?mode=rw"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=busy_timeout_seconds, isolation_level=None)

    engine = create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)
    event.listen(engine, "begin", lambda connection: _begin(connection, on_wait))
    return engine


def writing(connection: Connection) -> Connection:
    """Mark a connection so its next transaction takes the write lock at once."""
    return connection.execution_options(**{IMMEDIATE: True})


def is_locked_error(error: BaseException | None) -> bool:
    """Whether SQLite gave up waiting for a lock (``SQLITE_BUSY`` / ``SQLITE_LOCKED``)."""
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def is_read_only_error(error: BaseException | None) -> bool:
    """Whether SQLite refused to write because the file or its file system is read-only."""
    text = str(error).lower()
    return "readonly" in text or "read-only" in text


def _begin(connection: Connection, on_wait: OnWait | None) -> None:
    options: dict[str, Any] = dict(connection.get_execution_options())
    immediate = bool(options.get(IMMEDIATE))
    statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    raw = connection.connection.driver_connection
    if on_wait is None or not isinstance(raw, sqlite3.Connection):
        connection.exec_driver_sql(statement)
        return
    began, locked = _begin_without_waiting(raw, immediate)
    if locked:
        on_wait()
    if not began:  # now wait for the lock: BEGIN IMMEDIATE again, or the probe inside the open BEGIN
        connection.exec_driver_sql(SHARED_LOCK_PROBE if raw.in_transaction else statement)


def _begin_without_waiting(raw: sqlite3.Connection, immediate: bool) -> tuple[bool, bool]:
    """(locks taken, whether someone else held them), with the busy timeout at 0 meanwhile."""
    (busy_ms,) = raw.execute("PRAGMA busy_timeout").fetchone()
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        if immediate:
            raw.execute("BEGIN IMMEDIATE")
        else:
            raw.execute("BEGIN")
            raw.execute(SHARED_LOCK_PROBE).fetchall()
    except sqlite3.Error as error:  # retried through SQLAlchemy, which words any other failure
        return False, is_locked_error(error)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    return True, False
