"""The sync ledger: the last state both sides agreed on, per (device, book), in a small SQLite file.

It lives on the device (``<device>/.adds/kksync/ledger.sqlite``) so every host that syncs this Kobo
shares it. The file is created by the first ``record``: a dry run or a run with nothing to record
leaves no trace.

Beside the agreements it keeps what each book looked like when last read (``seen_book``: the
positions and a digest of their inputs), so an unchanged book is not parsed again. That table came
later: a ledger written before it gets it at its next write (reading never changes the file), and
until then every book simply takes the full path.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, delete, inspect, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from application.errors import LedgerError
from application.records import BookKind, FileCheck, FileStamp, FileState, SeenBook
from domain.annotation import Annotation, AnnotationKind, TextPoint, TextRange
from domain.decision import AgreedState
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus

# SQLAlchemy Core, not the ORM: the ledger is four small keyed tables, and leaving
# ``sqlalchemy.orm`` unimported spares every command ~0.1 s and the daemon ~6 MiB (issues 12, 13).
# The tables are declared exactly as the ORM declared them, so ledgers written before keep working.
METADATA = MetaData()


def _keyed_table(name: str, **columns: type[String]) -> Table:
    """A table keyed by (device, book), as every ledger table is (a ledger copied between Kobos
    keeps each one's rows apart); every other column is required, as the ORM's ``Mapped[str]``
    made it."""
    return Table(
        name,
        METADATA,
        Column("device_id", String, primary_key=True),
        Column("book_id", String, primary_key=True),
        *(Column(column, kind, nullable=False) for column, kind in columns.items()),
    )


# One book's agreement; positions are stored as JSON so the schema never has to change.
AGREED_TABLE = _keyed_table("agreed_state", kobo=Text, koreader=Text)
# The last question declined for a book, by token (a fingerprint of both sides' state).
DECLINED_TABLE = _keyed_table("declined_question", token=String)
# One book's agreed highlights and notes (docs/annotations.md), as a JSON list.
ANNOTATIONS_TABLE = _keyed_table("agreed_annotations", annotations=Text)
# What one book looked like when last read: the positions, their notes, the input digest.
SEEN_TABLE = _keyed_table("seen_book", key=String, kobo=Text, koreader=Text, notes=Text, file_check=Text)


P = ParamSpec("P")
T = TypeVar("T")


def _translated(method: Callable[Concatenate[SqlLedger, P], T]) -> Callable[Concatenate[SqlLedger, P], T]:
    """A damaged or unwritable ledger file becomes one ``LedgerError`` that says what to do."""

    @functools.wraps(method)
    def wrapper(self: SqlLedger, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except (SQLAlchemyError, sqlite3.Error, OSError, ValueError, KeyError, TypeError) as error:
            detail = " ".join(str(getattr(error, "orig", None) or error).split()) or type(error).__name__
            raise LedgerError(
                f"the sync ledger {self.path} cannot be used ({detail}); move it aside and sync again "
                "(kksync then starts a new one, comparing both sides as if never synced)"
            ) from None

    return wrapper


class SqlLedger:
    """``Ledger`` port over SQLAlchemy Core."""

    def __init__(self, path: Path, device_id: str) -> None:
        self.path = path
        self.device_id = device_id
        self._engine: Engine | None = None
        self._schema_ready = False

    @_translated
    def get(self, book_id: str) -> AgreedState | None:
        engine = self._existing_engine()
        if engine is None or not self._has_table(engine, AGREED_TABLE.name):
            return None
        columns = AGREED_TABLE.c
        query = select(columns.kobo, columns.koreader).where(*self._book_key(AGREED_TABLE, book_id))
        with engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else AgreedState(kobo=_load(row.kobo), koreader=_load(row.koreader))

    @_translated
    def all(self) -> dict[str, AgreedState]:
        engine = self._existing_engine()
        if engine is None or not self._has_table(engine, AGREED_TABLE.name):
            return {}
        columns = AGREED_TABLE.c
        query = select(columns.book_id, columns.kobo, columns.koreader).where(
            columns.device_id == self.device_id
        )
        with engine.connect() as connection:
            return {
                book_id: AgreedState(kobo=_load(kobo), koreader=_load(koreader))
                for book_id, kobo, koreader in connection.execute(query)
            }

    @_translated
    def seen(self) -> dict[str, SeenBook]:
        engine = self._existing_engine()
        if engine is None or not self._has_table(engine, SEEN_TABLE.name):
            return {}
        columns = SEEN_TABLE.c
        query = select(
            columns.book_id, columns.key, columns.kobo, columns.koreader, columns.notes, columns.file_check
        ).where(columns.device_id == self.device_id)
        found: dict[str, SeenBook] = {}
        with engine.connect() as connection:
            for book_id, key, kobo, koreader, notes, check in connection.execute(query):
                seen = _seen(key, kobo, koreader, notes, check)
                if seen is not None:
                    found[book_id] = seen
        return found

    @_translated
    def record_batch(self, agreed: Mapping[str, AgreedState], seen: Mapping[str, SeenBook]) -> None:
        """Agreements and seen books in one transaction; seen books alone never create the file."""
        if not agreed and (not seen or self._existing_engine() is None):
            return
        engine = self._engine_creating_file()
        with engine.begin() as connection:
            for book_id, state in agreed.items():
                self._upsert(
                    connection, AGREED_TABLE, book_id, kobo=_dump(state.kobo), koreader=_dump(state.koreader)
                )
            if seen:
                columns = SEEN_TABLE.c
                connection.execute(
                    delete(SEEN_TABLE).where(
                        columns.device_id == self.device_id, columns.book_id.in_(list(seen))
                    )
                )
                connection.execute(
                    SEEN_TABLE.insert(),
                    [_seen_row(self.device_id, book_id, entry) for book_id, entry in seen.items()],
                )

    @_translated
    def record(self, book_id: str, state: AgreedState) -> None:
        with self._engine_creating_file().begin() as connection:
            self._upsert(
                connection, AGREED_TABLE, book_id, kobo=_dump(state.kobo), koreader=_dump(state.koreader)
            )

    @_translated
    def declined(self) -> dict[str, str]:
        engine = self._existing_engine()
        if engine is None or not self._has_table(engine, DECLINED_TABLE.name):
            return {}
        columns = DECLINED_TABLE.c
        query = select(columns.book_id, columns.token).where(columns.device_id == self.device_id)
        with engine.connect() as connection:
            return {book_id: token for book_id, token in connection.execute(query)}

    @_translated
    def decline(self, book_id: str, token: str) -> None:
        with self._engine_creating_file().begin() as connection:
            self._upsert(connection, DECLINED_TABLE, book_id, token=token)

    @_translated
    def agreed_annotations(self, book_id: str) -> list[Annotation]:
        engine = self._existing_engine()
        if engine is None or not self._has_table(engine, ANNOTATIONS_TABLE.name):
            return []
        query = select(ANNOTATIONS_TABLE.c.annotations).where(*self._book_key(ANNOTATIONS_TABLE, book_id))
        with engine.connect() as connection:
            text = connection.execute(query).scalar_one_or_none()
        return [] if text is None else [annotation_from_json(item) for item in json.loads(text)]

    @_translated
    def record_annotations(self, book_id: str, annotations: Sequence[Annotation]) -> None:
        text = json.dumps([annotation_to_json(a) for a in annotations], sort_keys=True, ensure_ascii=False)
        with self._engine_creating_file().begin() as connection:
            self._upsert(connection, ANNOTATIONS_TABLE, book_id, annotations=text)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _book_key(self, table: Table, book_id: str) -> tuple[Any, Any]:
        return table.c.device_id == self.device_id, table.c.book_id == book_id

    def _upsert(self, connection: Connection, table: Table, book_id: str, **values: str) -> None:
        """One book's row in ``table``, inserted or replaced (SQLite's ON CONFLICT on the key)."""
        statement = insert(table).values(device_id=self.device_id, book_id=book_id, **values)
        result = connection.execute(
            statement.on_conflict_do_update(index_elements=["device_id", "book_id"], set_=values)
        )
        if result.rowcount != 1:
            raise sqlite3.DatabaseError(f"{table.name}: {result.rowcount} rows written for one book")

    def _existing_engine(self) -> Engine | None:
        """The engine of an existing file, without creating or migrating anything (reads only)."""
        if self._engine is None:
            if not self.path.exists():
                return None
            self._engine = create_engine(f"sqlite:///{self.path}")
        return self._engine

    def _engine_creating_file(self) -> Engine:
        """The engine for a write: the file and any missing table (an older ledger's) are created."""
        if self._engine is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(f"sqlite:///{self.path}")
        if not self._schema_ready:
            METADATA.create_all(self._engine)
            self._schema_ready = True
        return self._engine

    def _has_table(self, engine: Engine, name: str) -> bool:
        if self._schema_ready:
            return True
        with engine.connect() as connection:
            return inspect(connection).has_table(name)


def annotation_to_json(annotation: Annotation) -> dict[str, Any]:
    where = annotation.range
    return {
        "kind": annotation.kind.value,
        "range": [where.start.spine_index, where.start.offset, where.end.spine_index, where.end.offset],
        "text": annotation.text,
        "note": annotation.note,
        "color": annotation.color,
        "created": annotation.created.isoformat() if annotation.created else None,
        "modified": annotation.modified.isoformat() if annotation.modified else None,
    }


def annotation_from_json(data: dict[str, Any]) -> Annotation:
    start_spine, start, end_spine, end = (int(value) for value in data["range"])
    return Annotation(
        AnnotationKind(data["kind"]),
        TextRange(TextPoint(start_spine, start), TextPoint(end_spine, end)),
        text=data.get("text") or "",
        note=data.get("note"),
        color=data.get("color"),
        created=datetime.fromisoformat(data["created"]) if data.get("created") else None,
        modified=datetime.fromisoformat(data["modified"]) if data.get("modified") else None,
    )


def _dump(position: ReadingPosition | None) -> str:
    if position is None:
        return "null"
    locator = position.locator
    return json.dumps(
        {
            "progress": position.progress,
            "status": position.status.value,
            "updated_at": position.updated_at.isoformat() if position.updated_at else None,
            "locator": None
            if locator is None
            else {
                "spine_index": locator.spine_index,
                "chapter_href": locator.chapter_href,
                "fraction": locator.fraction,
                "kobo_span": locator.kobo_span,
                "xpointer": locator.xpointer,
            },
        },
        sort_keys=True,
    )


def _load(text: str) -> ReadingPosition | None:
    data: dict[str, Any] | None = json.loads(text)
    if data is None:
        return None
    locator = data.get("locator")
    return ReadingPosition(
        progress=float(data["progress"]),
        status=ReadingStatus(data["status"]),
        updated_at=datetime.fromisoformat(data["updated_at"]) if data.get("updated_at") else None,
        locator=Locator(**locator) if locator else None,
    )


def _seen_row(device_id: str, book_id: str, entry: SeenBook) -> dict[str, str]:
    return {
        "device_id": device_id,
        "book_id": book_id,
        "key": entry.key,
        "kobo": _dump(entry.kobo),
        "koreader": _dump(entry.koreader),
        "notes": json.dumps(list(entry.notes)),
        "file_check": _dump_check(entry.file_check),
    }


def _seen(key: str, kobo: str, koreader: str, notes: str, check: str) -> SeenBook | None:
    """One stored row, or None when it cannot be read back (that book then takes the full path)."""
    try:
        kobo_position = _load(kobo)
        if kobo_position is None:
            return None
        return SeenBook(key, kobo_position, _load(koreader), tuple(json.loads(notes)), _load_check(check))
    except (ValueError, TypeError, KeyError):
        return None


def _dump_check(check: FileCheck | None) -> str:
    if check is None:
        return "null"
    stamp = check.stamp
    return json.dumps(
        {
            "size": stamp.size,
            "mtime_ns": stamp.mtime_ns,
            "ctime_ns": stamp.ctime_ns,
            "settled": stamp.settled,
            "kind": check.kind.value,
            "state": check.state.value,
            "reason": check.reason,
        }
    )


def _load_check(text: str) -> FileCheck | None:
    data: dict[str, Any] | None = json.loads(text)
    if data is None:
        return None
    stamp = FileStamp(data["size"], data["mtime_ns"], data["ctime_ns"], data["settled"])
    return FileCheck(stamp, BookKind(data["kind"]), FileState(data["state"]), data.get("reason"))
