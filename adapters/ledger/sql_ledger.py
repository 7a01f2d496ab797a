"""The sync ledger: the last state both sides agreed on, per (device, book), in a small SQLite file.

It lives on the device (``<device>/.adds/kksync/ledger.sqlite``) so every host that syncs this Kobo
shares it. The file is created by the first ``record``: a dry run or a run with nothing to record
leaves no trace.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import String, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from application.errors import LedgerError
from domain.annotation import Annotation, AnnotationKind, TextPoint, TextRange
from domain.decision import AgreedState
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus


class Base(DeclarativeBase):
    pass


class AgreedRow(Base):
    """One book's agreement; positions are stored as JSON so the schema never has to change."""

    __tablename__ = "agreed_state"

    device_id: Mapped[str] = mapped_column(String, primary_key=True)
    book_id: Mapped[str] = mapped_column(String, primary_key=True)
    kobo: Mapped[str] = mapped_column(Text)
    koreader: Mapped[str] = mapped_column(Text)


class DeclinedRow(Base):
    """The last question declined for a book, by token (a fingerprint of both sides' state)."""

    __tablename__ = "declined_question"

    device_id: Mapped[str] = mapped_column(String, primary_key=True)
    book_id: Mapped[str] = mapped_column(String, primary_key=True)
    token: Mapped[str] = mapped_column(String)


class AgreedAnnotationsRow(Base):
    """One book's agreed highlights and notes (docs/annotations.md), as a JSON list."""

    __tablename__ = "agreed_annotations"

    device_id: Mapped[str] = mapped_column(String, primary_key=True)
    book_id: Mapped[str] = mapped_column(String, primary_key=True)
    annotations: Mapped[str] = mapped_column(Text)


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
    """``Ledger`` port over SQLAlchemy ORM."""

    def __init__(self, path: Path, device_id: str) -> None:
        self.path = path
        self.device_id = device_id
        self._engine: Engine | None = None

    @_translated
    def get(self, book_id: str) -> AgreedState | None:
        engine = self._existing_engine()
        if engine is None:
            return None
        with Session(engine) as session:
            row = session.get(AgreedRow, (self.device_id, book_id))
            return _state(row) if row is not None else None

    @_translated
    def all(self) -> dict[str, AgreedState]:
        engine = self._existing_engine()
        if engine is None:
            return {}
        with Session(engine) as session:
            rows = session.scalars(select(AgreedRow).where(AgreedRow.device_id == self.device_id))
            return {row.book_id: _state(row) for row in rows}

    @_translated
    def record(self, book_id: str, state: AgreedState) -> None:
        engine = self._engine_creating_file()
        with Session(engine) as session, session.begin():
            session.merge(
                AgreedRow(
                    device_id=self.device_id,
                    book_id=book_id,
                    kobo=_dump(state.kobo),
                    koreader=_dump(state.koreader),
                )
            )

    @_translated
    def declined(self) -> dict[str, str]:
        engine = self._existing_engine()
        if engine is None:
            return {}
        with Session(engine) as session:
            rows = session.scalars(select(DeclinedRow).where(DeclinedRow.device_id == self.device_id))
            return {row.book_id: row.token for row in rows}

    @_translated
    def decline(self, book_id: str, token: str) -> None:
        engine = self._engine_creating_file()
        with Session(engine) as session, session.begin():
            session.merge(DeclinedRow(device_id=self.device_id, book_id=book_id, token=token))

    def agreed_annotations(self, book_id: str) -> list[Annotation]:
        engine = self._existing_engine()
        if engine is None:
            return []
        query = select(AgreedAnnotationsRow.annotations).where(
            AgreedAnnotationsRow.device_id == self.device_id, AgreedAnnotationsRow.book_id == book_id
        )
        with engine.connect() as connection:
            text = connection.execute(query).scalar_one_or_none()
        return [] if text is None else [annotation_from_json(item) for item in json.loads(text)]

    def record_annotations(self, book_id: str, annotations: Sequence[Annotation]) -> None:
        engine = self._engine_creating_file()
        text = json.dumps([annotation_to_json(a) for a in annotations], sort_keys=True, ensure_ascii=False)
        with Session(engine) as session, session.begin():
            session.merge(AgreedAnnotationsRow(device_id=self.device_id, book_id=book_id, annotations=text))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _existing_engine(self) -> Engine | None:
        if self._engine is None and not self.path.exists():
            return None
        return self._engine_creating_file()

    def _engine_creating_file(self) -> Engine:
        if self._engine is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(f"sqlite:///{self.path}")
            Base.metadata.create_all(self._engine)
        return self._engine


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


def _state(row: AgreedRow) -> AgreedState:
    return AgreedState(kobo=_load(row.kobo), koreader=_load(row.koreader))
