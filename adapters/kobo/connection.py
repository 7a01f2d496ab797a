"""Opening ``KoboReader.sqlite`` through SQLAlchemy without getting in Nickel's way.

- ``mode=rw``: a wrong path fails instead of creating an empty database.
- ``NullPool``: no connection (and no open file handle) outlives an operation, so the Kobo can
  be ejected and Nickel is never kept waiting by an idle connection.
- pysqlite's implicit transactions are switched off; every transaction is begun explicitly:
  ``BEGIN`` (deferred) for reads, so they take only a shared lock and only while they run, and
  ``BEGIN IMMEDIATE`` for writes, so the write lock is taken up front and a busy Nickel is
  noticed before anything is changed. SQLite's busy handler waits up to the busy timeout.
- Nothing here issues ``PRAGMA journal_mode`` or any other setting that persists in the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

IMMEDIATE = "kksync_begin_immediate"


def open_engine(database: Path, busy_timeout_seconds: float) -> Engine:
    """An engine on an existing Nickel database whose transactions kksync begins itself."""
    uri = database.resolve().as_uri() + "?mode=rw"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=busy_timeout_seconds, isolation_level=None)

    engine = create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)
    event.listen(engine, "begin", _begin)
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


def _begin(connection: Connection) -> None:
    options: dict[str, Any] = dict(connection.get_execution_options())
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE) else "BEGIN")
