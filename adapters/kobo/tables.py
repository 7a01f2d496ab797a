"""SQLAlchemy Core tables for the parts of Nickel's schema kksync reads and writes.

Firmware adds ``content`` columns over time, so the table is declared from what
``PRAGMA table_info(content)`` reports: a column this firmware lacks is simply not declared,
hence never selected nor updated. The types are declared loosely (no conversions), because
Nickel stores the same column as text, integer or real depending on the row's origin.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Column, Connection, MetaData, Table, text
from sqlalchemy.types import NullType

from application.errors import DeviceError

KEY_COLUMNS = ("ContentID", "ContentType", "MimeType", "BookID")
BOOK_COLUMNS = (
    "Title",
    "Attribution",
    "Series",
    "SeriesNumber",
    "ImageId",
    "EntitlementId",
    "ReadStatus",
    "___PercentRead",
    "DateLastRead",
    "ChapterIDBookmarked",
    "IsDownloaded",
)
CHAPTER_COLUMNS = ("VolumeIndex", "___FileOffset", "___FileSize", "___PercentRead")
WRITTEN_COLUMNS = (
    "ChapterIDBookmarked",
    "___PercentRead",
    "ReadStatus",
    "DateLastRead",
    "FirstTimeReading",
    "ReadStateSynced",
)
USED_COLUMNS = tuple(dict.fromkeys((*KEY_COLUMNS, *BOOK_COLUMNS, *CHAPTER_COLUMNS, *WRITTEN_COLUMNS)))


@dataclass(frozen=True)
class NickelTables:
    """The tables as this database has them; ``content_keys`` is None when the table is absent."""

    content: Table
    content_keys: Table | None
    missing_columns: tuple[str, ...]

    def has(self, column: str) -> bool:
        return column in self.content.c


def probe_tables(connection: Connection, database_name: str) -> NickelTables:
    """Declare the tables from the live schema; a database without ``content`` is not Nickel's."""
    present = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(content)")}
    missing_keys = [name for name in KEY_COLUMNS if name not in present]
    if missing_keys:
        raise DeviceError(f"{database_name} is not a Kobo database: content lacks {', '.join(missing_keys)}")
    tables = connection.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": "content_keys"},
    ).all()
    metadata = MetaData()
    return NickelTables(
        content=_declare(metadata, "content", [c for c in USED_COLUMNS if c in present]),
        content_keys=_declare(metadata, "content_keys", ["volumeId", "elementId"]) if tables else None,
        missing_columns=tuple(c for c in USED_COLUMNS if c not in present),
    )


def _declare(metadata: MetaData, name: str, columns: Collection[str]) -> Table:
    return Table(name, metadata, *(Column(column, NullType()) for column in columns))


def declare_present(connection: Connection, name: str) -> Table:
    """Declare a table with every column it has in this database (types left to SQLite)."""
    columns = [row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({_identifier(name)})")]
    if not columns:
        raise DeviceError(f"the database has no table {name}")
    return _declare(MetaData(), name, columns)


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {name!r}")
    return name
