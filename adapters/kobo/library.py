"""``NickelLibrary``: the ``KoboLibrary`` port on a real ``KoboReader.sqlite``.

Reading takes a constant number of queries for the whole library (schema probe once, then
books, chapter rows and DRM keys), inside one short deferred transaction. Writing touches exactly
the columns sync-rules "Writing / Push" names, one book per ``BEGIN IMMEDIATE`` transaction, and
checks that every UPDATE hit exactly one row before committing.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import operator
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, select, update
from sqlalchemy.exc import DBAPIError

from adapters.clock import SystemClock
from adapters.device import DeviceLayout
from adapters.file_stamp import stamp
from adapters.kobo.backup import BackupStore
from adapters.kobo.bookmark import split_bookmark
from adapters.kobo.connection import OnWait, is_locked_error, is_read_only_error, open_engine, writing
from adapters.kobo.contentid import book_kind, book_source, chapter_prefix, chapter_zip_path_after
from adapters.kobo.dates import format_kobo_date, parse_kobo_date
from adapters.kobo.files import FileVerdict, check_file
from adapters.kobo.tables import BOOK_COLUMNS, CHAPTER_COLUMNS, KEY_COLUMNS, NickelTables, probe_tables
from application.errors import (
    CorruptDatabase,
    DeviceError,
    KksyncError,
    KoboDatabaseError,
    KoboDatabaseLocked,
    ReadOnlyDatabase,
)
from application.ports import Clock
from application.records import (
    EPUB_KINDS,
    NO_CHAPTERS,
    BookKind,
    FileCheck,
    FileStamp,
    FileState,
    KoboBook,
    KoboChapter,
    KoboChapters,
    KoboWrite,
)

logger = logging.getLogger(__name__)

BOOK_TYPES = ("6", 6)
CHAPTER_TYPES = ("9", 9)
NICKEL_FALSE = "false"  # Kobo firmware stores booleans as the strings 'true' / 'false'
BACKUPS_KEPT = 10
EXACT_FLOAT_INTEGER = 2**53  # every int of smaller magnitude survives a float unchanged


class NickelLibrary:
    """Books, chapters and reading state in Nickel's database; pushes written back to it."""

    def __init__(
        self,
        layout: DeviceLayout,
        busy_timeout_seconds: float = 10.0,
        clock: Clock | None = None,
        on_wait: OnWait | None = None,
    ) -> None:
        self._layout = layout
        self._database = layout.database
        if not self._database.is_file():
            raise DeviceError(f"No Kobo database at {self._database}")
        self._busy_timeout = busy_timeout_seconds
        self._clock: Clock = clock or SystemClock()
        self._on_wait = on_wait
        self._engine = open_engine(self._database, busy_timeout_seconds, on_wait)
        self._tables: NickelTables | None = None
        self._backups = BackupStore(
            layout.kksync_dir / "backups", keep=BACKUPS_KEPT, busy_timeout=busy_timeout_seconds
        )
        self._checks: dict[str, FileCheck] = {}
        """The last check of each opened book file, reused while the file's stamp vouches for it."""

    @property
    def database(self) -> Path:
        return self._database

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for instrumentation (e.g. counting the statements a sync sends)."""
        return self._engine

    def close(self) -> None:
        """Release the engine; no file handle on the device stays open afterwards."""
        self._engine.dispose()

    # -- reading ---------------------------------------------------------------------------

    def books(self, known: Mapping[str, FileCheck] | None = None) -> list[KoboBook]:
        if known:
            self._checks.update(
                (book_id, check) for book_id, check in known.items() if book_id not in self._checks
            )
        return self._read_books(None)

    def book(self, book_id: str) -> KoboBook | None:
        found = self._read_books(book_id)
        return found[0] if found else None

    def row_digests(self, *, chapters: bool, book_ids: Sequence[str] | None = None) -> dict[str, int]:
        """Per book, a digest of its book row (and, with ``chapters``, of its chapter rows).

        For a watcher that only needs to know *which* books changed, without building records: the
        book rows are one cheap query; the chapter rows, grouped by SQLite, cost a scan of every
        chapter (or, for a few ``book_ids``, an index lookup each). A different chapter order
        between two reads only reports a change that did not happen, never hides one.
        """
        only = "" if book_ids is None else f" AND {{column}} IN ({', '.join('?' * len(book_ids))})"
        parameters = tuple(book_ids or ())
        try:
            with self._engine.connect() as connection, connection.begin():
                tables = self._probe(connection)
                driver = connection.connection.driver_connection
                if not isinstance(driver, sqlite3.Connection):  # pragma: no cover - pysqlite always is
                    raise DeviceError("unexpected database driver")
                present = [name for name in (*KEY_COLUMNS, *BOOK_COLUMNS) if tables.has(name)]
                columns = ", ".join(f'"{name}"' for name in present)  # as stored, not converted
                rows = driver.execute(
                    _book_rows(columns, only.format(column="ContentID")), parameters
                ).fetchall()
                grouped_query = _grouped_chapters(tables, only.format(column="BookID"))
                # Hashed as they come: 8,000 books' chapter texts held at once were ~20 MB.
                grouped = (
                    {book_id: hash(text) for book_id, text in driver.execute(grouped_query, parameters)}
                    if chapters
                    else {}
                )
        except (DBAPIError, sqlite3.Error) as error:
            raise self._read_failure(error) from None
        return {str(row[0]): _row_digest(row, grouped.get(row[0])) for row in rows}

    def file_checks(self) -> dict[str, FileCheck]:
        """The file checks of the last read, by book, to be handed back to ``books`` next run."""
        return dict(self._checks)

    def _read_books(self, book_id: str | None) -> list[KoboBook]:
        try:
            with self._engine.connect() as connection, connection.begin():
                tables = self._probe(connection)
                book_rows = _fetch(connection, _books_query(tables, book_id))
                chapters = _chapters_by_book(_cursor(connection, _chapters_query(tables, book_id)))
                keyed = _keyed_volumes(connection, tables, book_id)
        except (DBAPIError, sqlite3.Error) as error:
            raise self._read_failure(error) from None
        books = []
        for values in book_rows.values:
            row = dict(zip(book_rows.columns, values, strict=True))
            books.append(self._book(row, chapters.get(row["ContentID"], NO_CHAPTERS), keyed))
        return books

    def _read_failure(self, error: DBAPIError | sqlite3.Error) -> KksyncError:
        """A failed read as users should hear it: locked (Nickel busy), damaged, or else why."""
        reason = error.orig if isinstance(error, DBAPIError) else error
        if is_locked_error(reason):
            return KoboDatabaseLocked(
                f"the Kobo database {self._database} stayed locked for {self._busy_timeout:g} s "
                "(is Nickel busy?); nothing was read. Sync again when the Kobo is idle"
            )
        message = f"Cannot read the Kobo database {self._database}: {reason}"
        if _is_corruption(reason):
            return CorruptDatabase(message)
        return DeviceError(message)

    def _book(self, row: Mapping[str, Any], chapters: KoboChapters, keyed: set[str]) -> KoboBook:
        book_id: str = row["ContentID"]
        kind = book_kind(row["MimeType"])
        file_path = self._layout.book_host_path(book_id)
        verdict, found = self._check_file(row, file_path, kind, book_id in keyed)
        return KoboBook(
            book_id=book_id,
            title=row.get("Title"),
            author=row.get("Attribution"),
            series=row.get("Series"),
            series_number=_text_or_none(row.get("SeriesNumber")),
            source=book_source(book_id, row.get("EntitlementId")),
            kind=kind,
            device_path=self._layout.book_device_path(book_id),
            file_path=file_path,
            file_state=verdict.state,
            file_problem=verdict.reason,
            file_stamp=found,
            read_status=_int_or(row.get("ReadStatus"), 0) or 0,
            percent_read=_int_or(row.get("___PercentRead"), None),
            date_last_read=parse_kobo_date(row.get("DateLastRead")),
            bookmark=split_bookmark(row.get("ChapterIDBookmarked")),
            chapters=chapters if kind is BookKind.KEPUB else NO_CHAPTERS,
            image_id=row.get("ImageId"),
        )

    def _check_file(
        self, row: Mapping[str, Any], path: Path, kind: BookKind, has_keys: bool
    ) -> tuple[FileVerdict, FileStamp | None]:
        """The file's state and, when it cannot be synced, the most useful reason why."""
        book_id: str = row["ContentID"]
        unreachable = self._layout.unreachable_reason(book_id)
        if unreachable is not None:
            return FileVerdict(FileState.MISSING, unreachable), None
        verdict, found = self._verdict(book_id, path, kind, has_keys)
        if verdict.state is FileState.MISSING and str(row.get("IsDownloaded")).lower() == NICKEL_FALSE:
            verdict = FileVerdict(FileState.MISSING, "not downloaded to the Kobo (IsDownloaded='false')")
        elif verdict.state is FileState.READABLE and kind is BookKind.OTHER:
            verdict = FileVerdict(
                verdict.state, f"MimeType {row.get('MimeType')!r} is not EPUB, kepub or PDF"
            )
        return verdict, found

    def _verdict(
        self, book_id: str, path: Path, kind: BookKind, has_keys: bool
    ) -> tuple[FileVerdict, FileStamp | None]:
        """``check_file``'s verdict, opening the book only when no earlier check vouches for it.

        A missing file, or a store book with DRM keys (encrypted whatever its file holds), is
        decided without opening anything, so only opened files' verdicts are kept.
        """
        found = stamp(path)
        if found is None or (has_keys and kind in EPUB_KINDS):
            self._checks.pop(book_id, None)
            return check_file(path, kind, has_content_keys=has_keys), found
        earlier = self._checks.get(book_id)
        if earlier is not None and earlier.kind is kind and found.vouches_for(earlier.stamp):
            return FileVerdict(earlier.state, earlier.reason), found
        verdict = check_file(path, kind)
        self._checks[book_id] = FileCheck(found, kind, verdict.state, verdict.reason)
        return verdict, found

    def _probe(self, connection: Connection) -> NickelTables:
        """Learn the schema once per instance; warn once about columns this firmware lacks."""
        if self._tables is None:
            self._tables = probe_tables(connection, str(self._database))
            if self._tables.missing_columns:
                logger.warning(
                    "%s has no column %s (older firmware?); kksync neither reads nor writes it",
                    self._database,
                    ", ".join(self._tables.missing_columns),
                )
        return self._tables

    # -- writing ---------------------------------------------------------------------------

    def write(self, book_id: str, change: KoboWrite) -> None:
        try:
            with writing(self._engine.connect()) as connection, connection.begin():
                tables = self._probe(connection)
                self._update_book(connection, tables, book_id, change)
                if change.chapter_content_id is not None:
                    self._update_chapter(connection, tables, book_id, change)
        except DBAPIError as error:
            raise self._write_error(book_id, error) from error
        logger.info(
            "wrote %s %% (status %s) for %s to %s",
            change.percent_read,
            change.read_status,
            book_id,
            self._database,
        )

    def _update_book(
        self, connection: Connection, tables: NickelTables, book_id: str, change: KoboWrite
    ) -> None:
        wanted: dict[str, object] = {
            "___PercentRead": change.percent_read,
            "ReadStatus": change.read_status,
            "DateLastRead": format_kobo_date(change.date_last_read),
            "FirstTimeReading": NICKEL_FALSE,
            "ReadStateSynced": NICKEL_FALSE,
        }
        if change.bookmark is not None:
            wanted["ChapterIDBookmarked"] = change.bookmark
        values = {column: value for column, value in wanted.items() if tables.has(column)}
        content = tables.content
        statement = (
            update(content)
            .where(content.c.ContentID == book_id, content.c.ContentType.in_(BOOK_TYPES))
            .values(values)
        )
        self._expect_one_row(connection.execute(statement).rowcount, book_id, "book row")

    def _update_chapter(
        self, connection: Connection, tables: NickelTables, book_id: str, change: KoboWrite
    ) -> None:
        if not tables.has("___PercentRead"):
            return
        content = tables.content
        statement = (
            update(content)
            .where(
                content.c.ContentID == change.chapter_content_id,
                content.c.BookID == book_id,
                content.c.ContentType.in_(CHAPTER_TYPES),
            )
            .values({"___PercentRead": change.chapter_percent_read or 0})
        )
        rowcount = connection.execute(statement).rowcount
        self._expect_one_row(rowcount, book_id, f"chapter {change.chapter_content_id}")

    def _expect_one_row(self, rowcount: int, book_id: str, what: str) -> None:
        if rowcount != 1:
            raise KoboDatabaseError(
                f"Writing '{book_id}' to {self._database} would change {rowcount} rows "
                f"for its {what}; nothing written"
            )

    def _write_error(self, book_id: str, error: DBAPIError) -> Exception:
        if is_locked_error(error.orig):
            return KoboDatabaseLocked(
                f"Kobo database is locked: '{book_id}' not written to {self._database} "
                f"after waiting {self._busy_timeout:g} s (is Nickel busy?)"
            )
        if is_read_only_error(error.orig):
            return ReadOnlyDatabase(f"Kobo database {self._database} is read-only; '{book_id}' not written")
        return KoboDatabaseError(f"Writing '{book_id}' to {self._database} failed: {error.orig}")

    def ensure_writable(self) -> None:
        """Refuse early when the file, its folder (journal files) or the file system is read-only.

        A file with no write permission bit for anyone counts as read-only even for root, who
        could write it anyway: someone marked it so on purpose.
        """
        folder = self._database.parent
        for path in (self._database, folder):
            if not os.access(path, os.W_OK):
                raise ReadOnlyDatabase(f"cannot write {path}: it is read-only")
        if self._database.stat().st_mode & 0o222 == 0:
            raise ReadOnlyDatabase(f"Kobo database {self._database} is marked read-only")
        if on_read_only_file_system(folder):
            raise ReadOnlyDatabase(f"Kobo database {self._database} is on a read-only file system")

    def remove_unfinished_backups(self) -> list[Path]:
        """Delete backups an interrupted run left half-copied (``….sqlite.partial``)."""
        return self._backups.remove_partials()

    def backup(self) -> Path:
        with self._engine.connect() as connection:
            source = connection.connection.driver_connection
            if not isinstance(source, sqlite3.Connection):  # pragma: no cover - pysqlite always is
                raise DeviceError(f"Cannot back up {self._database}: unexpected driver connection")
            return self._backups.take(source, self._clock.now(), on_wait=self._on_wait)


def _books_query(tables: NickelTables, book_id: str | None) -> Select[Any]:
    content = tables.content
    columns = [content.c[name] for name in (*KEY_COLUMNS, *BOOK_COLUMNS) if tables.has(name)]
    conditions: list[ColumnElement[bool]] = [content.c.ContentType.in_(BOOK_TYPES)]
    if book_id is None:
        conditions.append(content.c.BookID.is_(None))  # every book row: through content_bookid_index
    else:
        conditions.append(content.c.ContentID == book_id)
    return select(*columns).where(and_(*conditions)).order_by(content.c.ContentID)


def _chapters_query(tables: NickelTables, book_id: str | None) -> Select[Any]:
    content = tables.content
    columns = [content.c[name] for name in ("ContentID", "BookID", *CHAPTER_COLUMNS) if tables.has(name)]
    conditions: list[ColumnElement[bool]] = [content.c.ContentType.in_(CHAPTER_TYPES)]
    conditions.append(content.c.BookID.is_not(None) if book_id is None else content.c.BookID == book_id)
    order = [content.c.BookID] + ([content.c.VolumeIndex] if tables.has("VolumeIndex") else [])
    return select(*columns).where(and_(*conditions)).order_by(*order)


def _keyed_volumes(connection: Connection, tables: NickelTables, book_id: str | None) -> set[str]:
    """Books with Kobo store DRM keys; one query for the whole library."""
    keys = tables.content_keys
    if keys is None:
        return set()
    query = select(keys.c.volumeId).distinct()
    if book_id is not None:
        query = query.where(keys.c.volumeId == book_id)
    return {str(volume) for volume in connection.execute(query).scalars()}


def _row_digest(row: tuple[Any, ...], chapters: int | None) -> int:
    """Python's own hash of the row as stored, the cheapest that tells a changed row from its past.

    Values hash by value across types (``1``, ``1.0`` and ``True`` alike), which kksync reads the
    same way; text never hashes like a number. CPython gives -1 the hash of -2, so the count of -1
    values is hashed too. Otherwise only a 64-bit collision could hide a change.
    """
    return hash((row, row.count(-1), chapters))


def _book_rows(columns: str, only: str) -> str:
    """Book rows as stored; the whole library through ``content_bookid_index`` (book rows have no
    BookID), not a scan of every chapter and table-of-contents row; a few books by their key."""
    rows = f"SELECT ContentID, {columns} FROM content WHERE ContentType IN ('6', 6)"
    return rows + (only or " AND BookID IS NULL")


def _grouped_chapters(tables: NickelTables, only: str) -> str:
    present = [name for name in ("ContentID", *CHAPTER_COLUMNS) if tables.has(name)]
    line = " || '|' || ".join(f'quote("{name}")' for name in present)
    return (
        f"SELECT BookID, group_concat({line}, char(10)) FROM content"
        f" WHERE ContentType IN ('9', 9) AND BookID IS NOT NULL{only} GROUP BY BookID"
    )


@dataclass(frozen=True)
class _Fetched:
    columns: tuple[str, ...]
    values: list[tuple[Any, ...]]


def _fetch(connection: Connection, query: Select[Any]) -> _Fetched:
    cursor = _cursor(connection, query)
    return _Fetched(tuple(column[0] for column in cursor.description), cursor.fetchall())


def _cursor(connection: Connection, query: Select[Any]) -> sqlite3.Cursor:
    """Run a read on the driver's own cursor: plain tuples, without a Row object per row.

    The chapter query returns tens of thousands of rows for a large library; SQLAlchemy's row
    objects were a good part of a whole-library read.
    """
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    positions = compiled.positiontup or []
    parameters = tuple(compiled.params[name] for name in positions)
    driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):  # pragma: no cover - pysqlite always is
        raise DeviceError("unexpected database driver")
    return driver.execute(str(compiled), parameters)


def _chapters_by_book(cursor: sqlite3.Cursor) -> dict[str, KoboChapters]:
    """Chapter rows (ordered by book), kept per book as one compact text of the driver's values.

    They become ``KoboChapter`` records only for a book whose position is read in full: on a
    no-op sync no book is, and converting ~20 rows per book was most of reading the library.
    A run holds every book's rows until it ends: as tuples they took ~6.5 KB a book, as one JSON
    text ~3.2 KB, as ``_packed_rows`` ~0.8 KB (8,000 books: 50, 25, then 6.5 MiB).
    """
    columns = tuple(column[0] for column in cursor.description)
    at = _ChapterColumns.of(columns)
    grouped = itertools.groupby(cursor, key=operator.itemgetter(at.book_id))
    return {book_id: _kept_chapters(book_id, tuple(rows), at) for book_id, rows in grouped}


def _kept_chapters(book_id: str, rows: tuple[tuple[Any, ...], ...], at: _ChapterColumns) -> KoboChapters:
    packed = _packed_rows(rows, at)
    if packed is None:  # a BLOB where Nickel keeps text or numbers, or no ContentID: keep the tuples
        return KoboChapters(rows, functools.partial(_chapters, book_id, rows, at))
    return KoboChapters((packed,), functools.partial(_chapters_from_packed, book_id, packed, at))


def _packed_rows(rows: tuple[tuple[Any, ...], ...], at: _ChapterColumns) -> bytes | None:
    """A book's chapter rows as UTF-8 JSON without what every row repeats: the BookID (the book's
    own id) and the ContentIDs' common start (the book's path or id), kept once.

    JSON keeps every value exactly (ints, floats including non-finite ones, text, NULL); bytes,
    because a Python text with one non-Latin character (a title's dash) takes 2 bytes a letter.
    """
    assert (at.content_id, at.book_id) == (0, 1), "the chapter query selects ContentID, BookID first"
    content_ids = [row[0] for row in rows]
    if not all(type(content_id) is str for content_id in content_ids):
        return None
    cut = len(os.path.commonprefix(content_ids))  # noqa: RUF071 - letters, not path parts, are wanted
    try:
        text = json.dumps(
            [content_ids[0][:cut], [[row[0][cut:], *row[2:]] for row in rows]],
            ensure_ascii=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError):
        return None
    return text.encode()


def _chapters_from_packed(book_id: str, packed: bytes, at: _ChapterColumns) -> tuple[KoboChapter, ...]:
    start, rows = json.loads(packed)
    return _chapters(book_id, ((start + row[0], book_id, *row[1:]) for row in rows), at)


@dataclass(frozen=True, slots=True)
class _ChapterColumns:
    """Where each chapter column sits in a row; None for a column this firmware lacks."""

    book_id: int
    content_id: int
    volume_index: int | None
    offset: int | None
    size: int | None
    percent_read: int | None

    @classmethod
    def of(cls, columns: tuple[str, ...]) -> _ChapterColumns:
        def find(name: str) -> int | None:
            return columns.index(name) if name in columns else None

        return cls(
            book_id=columns.index("BookID"),
            content_id=columns.index("ContentID"),
            volume_index=find("VolumeIndex"),
            offset=find("___FileOffset"),
            size=find("___FileSize"),
            percent_read=find("___PercentRead"),
        )


def _chapters(book_id: str, rows: Iterable[tuple[Any, ...]], at: _ChapterColumns) -> tuple[KoboChapter, ...]:
    """Spine rows of a kepub in ``VolumeIndex`` order; rows not shaped ``…!opfdir!href`` are skipped."""
    chapters = []
    prefix = chapter_prefix(book_id)
    for position, row in enumerate(rows):
        content_id = row[at.content_id]
        zip_path = chapter_zip_path_after(prefix, content_id)
        if zip_path is None:
            continue
        chapters.append(
            KoboChapter(
                content_id=content_id,
                zip_path=zip_path,
                volume_index=_int_or(_column(row, at.volume_index), position) or 0,
                offset=_float_or_zero(_column(row, at.offset)),
                size=_float_or_zero(_column(row, at.size)),
                percent_read=_int_or(_column(row, at.percent_read), None),
            )
        )
    return tuple(chapters)


def _column(row: tuple[Any, ...], index: int | None) -> object:
    return None if index is None else row[index]


def _int_or(value: object, default: int | None) -> int | None:
    if type(value) is int and -EXACT_FLOAT_INTEGER < value < EXACT_FLOAT_INTEGER:
        return value  # what int(float(value)) gives, without the round trip (the common case)
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite REAL
        return default


def _float_or_zero(value: object) -> float:
    try:
        return float(value) if value is not None else 0.0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def on_read_only_file_system(folder: Path) -> bool:
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:  # pragma: no cover - Windows has no statvfs; os.access covers it there
        return False
    return bool(statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1))


__all__ = ["NickelLibrary"]


def _is_corruption(error: BaseException | None) -> bool:
    """SQLITE_CORRUPT ("malformed") or SQLITE_NOTADB ("file is not a database")."""
    text = str(error).lower()
    return "malformed" in text or "not a database" in text
