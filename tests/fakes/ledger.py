"""An in-memory ``Ledger`` that passes the same contract tests as the SQLite one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from application.records import SeenBook
from domain.annotation import Annotation
from domain.decision import AgreedState


class FakeLedger:
    def __init__(self) -> None:
        self.entries: dict[str, AgreedState] = {}
        self.declines: dict[str, str] = {}
        self.seen_books: dict[str, SeenBook] = {}
        self.writes = 0
        """Writes of agreements or declines (what a sync must not do after a failed write)."""
        self.seen_writes = 0
        self.annotations: dict[str, list[Annotation]] = {}

    def get(self, book_id: str) -> AgreedState | None:
        return self.entries.get(book_id)

    def all(self) -> dict[str, AgreedState]:
        return dict(self.entries)

    def record(self, book_id: str, state: AgreedState) -> None:
        self.entries[book_id] = state
        self.writes += 1

    def seen(self) -> dict[str, SeenBook]:
        return dict(self.seen_books)

    def record_batch(self, agreed: Mapping[str, AgreedState], seen: Mapping[str, SeenBook]) -> None:
        if agreed:
            self.entries.update(agreed)
            self.writes += 1
        if seen and (self.entries or self.declines):  # like the file: seen books never start a ledger
            self.seen_books.update(seen)
            self.seen_writes += 1

    def declined(self) -> dict[str, str]:
        return dict(self.declines)

    def decline(self, book_id: str, token: str) -> None:
        self.declines[book_id] = token
        self.writes += 1

    def agreed_annotations(self, book_id: str) -> list[Annotation]:
        return list(self.annotations.get(book_id, []))

    def record_annotations(self, book_id: str, annotations: Sequence[Annotation]) -> None:
        self.annotations[book_id] = list(annotations)
        self.writes += 1
