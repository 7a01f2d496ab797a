"""``NickelBookmarks``: highlights and notes in Nickel's ``Bookmark`` table (docs/annotations.md).

Reading returns a book's visible rows (``Hidden`` false) with the spine file of their chapter
row. Writing adds, edits and deletes rows of one book in one ``BEGIN IMMEDIATE`` transaction,
checking that every statement touched exactly one row; the schema is probed, never changed, so
a database without the ``Color`` column simply never gets a colour.

A row kksync creates looks like the rows Nickel writes itself (fixture fw 4.38): a fresh UUID
``BookmarkID``; ``VolumeID`` the book's ContentID; ``ContentID`` the exact ContentType-9 chapter
row (Nickel draws nothing else); ``span#kobo\\.X\\.Y`` paths with child index -99; ``Hidden`` and
``Published`` ``'false'``; ``UserID`` of the device's user; ``DateCreated`` with milliseconds and
no zone, ``DateModified`` with ``Z``; ``Version``/``Creator``/``UUID``/``SyncTime`` NULL.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from adapters.kobo.connection import is_locked_error, is_read_only_error, open_engine, writing
from adapters.kobo.contentid import chapter_zip_path
from adapters.kobo.dates import format_kobo_date, parse_kobo_date
from adapters.kobo.tables import declare_present
from application.annotation_records import (
    KoboAnnotationChanges,
    KoboAnnotationEdit,
    KoboAnnotationRow,
    NewKoboAnnotation,
    selector_of_span,
)
from application.errors import DeviceError, KoboDatabaseError, KoboDatabaseLocked, ReadOnlyDatabase

logger = logging.getLogger(__name__)

CHAPTER_TYPES = ("9", 9)
NICKEL_FALSE = "false"
NICKEL_TRUE_VALUES = frozenset({"true", "1", 1})
SPAN_CHILD_INDEX = -99  # what Nickel stores for kepub span selectors
KOBO_TYPES = {"highlight": "highlight", "note": "note", "dogear": "bookmark"}


def created_format(moment: datetime) -> str:
    """``DateCreated`` as Nickel writes it: UTC, milliseconds, no zone."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class NickelBookmarks:
    """The ``KoboAnnotationStore`` port on a real ``KoboReader.sqlite``."""

    def __init__(self, database: Path, busy_timeout_seconds: float = 10.0) -> None:
        if not database.is_file():
            raise DeviceError(f"No Kobo database at {database}")
        self._database = database
        self._busy_timeout = busy_timeout_seconds
        self._engine = open_engine(database, busy_timeout_seconds)
        self._bookmark: Table | None = None

    def close(self) -> None:
        self._engine.dispose()

    def has_colours(self) -> bool:
        """Whether this firmware's ``Bookmark`` table has the ``Color`` column."""
        with self._engine.connect() as connection, connection.begin():
            return "Color" in self._bookmark_table(connection).c

    # -- reading ---------------------------------------------------------------------------

    def annotations(self, book_id: str) -> list[KoboAnnotationRow]:
        """The book's visible rows, oldest first."""
        try:
            with self._engine.connect() as connection, connection.begin():
                bookmark = self._bookmark_table(connection)
                query = select(bookmark).where(bookmark.c.VolumeID == book_id)
                if "DateCreated" in bookmark.c:
                    query = query.order_by(bookmark.c.DateCreated, bookmark.c.BookmarkID)
                rows = connection.execute(query).mappings().all()
        except DBAPIError as error:
            raise KoboDatabaseError(f"Cannot read the highlights of '{book_id}': {error.orig}") from error
        return [_row(book_id, row) for row in rows if not _is_true(row.get("Hidden"))]

    def _bookmark_table(self, connection: Connection) -> Table:
        """The table as this database has it, probed once: one Table keeps the statement cache warm."""
        if self._bookmark is None:
            self._bookmark = declare_present(connection, "Bookmark")
        return self._bookmark

    def revisions(self) -> dict[str, str]:
        """Per book, a digest of every column of its Bookmark rows: any added, edited or deleted
        row changes it (one query over the table; highlights are few beside chapter rows)."""
        try:
            with self._engine.connect() as connection, connection.begin():
                bookmark = self._bookmark_table(connection)
                query = select(bookmark).order_by(bookmark.c.VolumeID, bookmark.c.BookmarkID)
                rows = connection.execute(query).all()
        except DBAPIError as error:
            raise KoboDatabaseError(
                f"Cannot read the highlights in {self._database}: {error.orig}"
            ) from error
        volume = list(bookmark.c.keys()).index("VolumeID")
        digests: dict[str, Any] = {}
        for row in rows:
            digest = digests.setdefault(str(row[volume]), hashlib.blake2b(digest_size=16))
            digest.update(repr(tuple(row)).encode("utf-8", "surrogateescape"))
        return {book_id: digest.hexdigest() for book_id, digest in digests.items()}

    # -- writing ---------------------------------------------------------------------------

    def apply(self, book_id: str, changes: KoboAnnotationChanges) -> None:
        """Write one book's changes in one transaction; raise and write nothing on any failure."""
        if changes.is_empty:
            return
        try:
            with writing(self._engine.connect()) as connection, connection.begin():
                bookmark = self._bookmark_table(connection)
                user_id = _user_id(connection)
                for key in changes.deleted:
                    self._one(connection, delete(bookmark).where(_ours(bookmark, book_id, key)), book_id)
                for edit in changes.edited:
                    statement = update(bookmark).where(_ours(bookmark, book_id, edit.bookmark_id))
                    self._one(connection, statement.values(_edit_values(bookmark, edit)), book_id)
                for added in changes.added:
                    values = _new_values(bookmark, book_id, added, user_id)
                    self._one(connection, insert(bookmark).values(values), book_id)
        except DBAPIError as error:
            raise self._write_error(book_id, error) from error
        logger.info(
            "%s: %d highlights added, %d edited, %d deleted in %s",
            book_id,
            len(changes.added),
            len(changes.edited),
            len(changes.deleted),
            self._database,
        )

    def _one(self, connection: Connection, statement: Any, book_id: str) -> None:
        rowcount = connection.execute(statement).rowcount
        if rowcount != 1:
            raise KoboDatabaseError(
                f"Writing highlights of '{book_id}' to {self._database} would change {rowcount} rows "
                "where one was expected; nothing written"
            )

    def _write_error(self, book_id: str, error: DBAPIError) -> Exception:
        if is_locked_error(error.orig):
            return KoboDatabaseLocked(
                f"Kobo database is locked: highlights of '{book_id}' not written to {self._database} "
                f"after waiting {self._busy_timeout:g} s (is Nickel busy?)"
            )
        if is_read_only_error(error.orig):
            return ReadOnlyDatabase(f"Kobo database {self._database} is read-only; '{book_id}' not written")
        return KoboDatabaseError(
            f"Writing highlights of '{book_id}' to {self._database} failed: {error.orig}"
        )

    def chapter_ids(self, book_id: str) -> dict[str, str]:
        """Spine file -> the ContentType-9 chapter row's ContentID, the rows Nickel draws highlights on."""
        with self._engine.connect() as connection, connection.begin():
            content = declare_present(connection, "content")
            query = select(content.c.ContentID).where(
                content.c.BookID == book_id, content.c.ContentType.in_(CHAPTER_TYPES)
            )
            ids = [str(value) for value in connection.execute(query).scalars()]
        chapters: dict[str, str] = {}
        for content_id in ids:
            zip_path = chapter_zip_path(book_id, content_id)
            if zip_path is not None:
                chapters.setdefault(zip_path, content_id)
        return chapters


def _ours(bookmark: Table, book_id: str, bookmark_id: str) -> Any:
    return (bookmark.c.BookmarkID == bookmark_id) & (bookmark.c.VolumeID == book_id)


def _user_id(connection: Connection) -> str | None:
    """The device user's id, as Nickel stamps its own rows; None without a ``user`` table."""
    try:
        user = declare_present(connection, "user")
    except DeviceError:
        return None
    if "UserID" not in user.c:
        return None
    ids = [value for value in connection.execute(select(user.c.UserID)).scalars() if value]
    return str(ids[0]) if len(ids) == 1 else None


def _edit_values(bookmark: Table, edit: KoboAnnotationEdit) -> dict[str, object]:
    wanted: dict[str, object] = {
        "Annotation": edit.note or "",
        "Type": edit.kind,
        "DateModified": format_kobo_date(edit.modified),
    }
    if edit.color is not None:
        wanted["Color"] = edit.color
    return {column: value for column, value in wanted.items() if column in bookmark.c}


def _new_values(
    bookmark: Table, book_id: str, added: NewKoboAnnotation, user_id: str | None
) -> dict[str, object]:
    wanted: dict[str, object] = {
        "BookmarkID": added.bookmark_id,
        "VolumeID": book_id,
        "ContentID": added.content_id,
        "StartContainerPath": selector_of_span(added.start_span),
        "StartContainerChildIndex": SPAN_CHILD_INDEX,
        "StartOffset": added.start_offset,
        "EndContainerPath": selector_of_span(added.end_span),
        "EndContainerChildIndex": SPAN_CHILD_INDEX,
        "EndOffset": added.end_offset,
        "Text": added.text,
        "Annotation": added.note or "",
        "DateCreated": created_format(added.created),
        "ChapterProgress": added.chapter_progress,
        "Hidden": NICKEL_FALSE,
        "DateModified": format_kobo_date(added.modified),
        "UserID": user_id,
        "Published": NICKEL_FALSE,
        "Type": added.kind,
    }
    if added.color is not None:
        wanted["Color"] = added.color
    return {column: value for column, value in wanted.items() if column in bookmark.c}


def _row(book_id: str, row: Any) -> KoboAnnotationRow:
    content_id = str(row.get("ContentID") or "")
    note = row.get("Annotation")
    start_path = str(row.get("StartContainerPath") or "")
    end_path = str(row.get("EndContainerPath") or "")
    start_offset = _int(row.get("StartOffset"))
    end_offset = _int(row.get("EndOffset"))
    return KoboAnnotationRow(
        bookmark_id=str(row["BookmarkID"]),
        book_id=book_id,
        content_id=content_id,
        zip_path=chapter_zip_path(book_id, content_id),
        start_path=start_path,
        start_offset=start_offset,
        end_path=end_path,
        end_offset=end_offset,
        kind=_kind(row.get("Type"), note, start_path == end_path and start_offset == end_offset),
        text=str(row.get("Text") or ""),
        note=str(note) if note else None,
        color=_int_or_none(row.get("Color")),
        created=parse_kobo_date(row.get("DateCreated")),
        modified=parse_kobo_date(row.get("DateModified")),
        hidden=_is_true(row.get("Hidden")),
    )


def _kind(stored: object, note: object, empty_range: bool) -> str:
    """Nickel's ``Type`` in kksync's words; older rows without one are told by note and range."""
    if isinstance(stored, str) and stored in KOBO_TYPES:
        return KOBO_TYPES[stored]
    if note:
        return "note"
    return "bookmark" if empty_range else "highlight"


def _is_true(value: object) -> bool:
    return value in NICKEL_TRUE_VALUES or (isinstance(value, str) and value.lower() == "true")


def _int(value: object) -> int:
    number = _int_or_none(value)
    return 0 if number is None else number


def _int_or_none(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None


__all__ = ["NickelBookmarks", "created_format"]
