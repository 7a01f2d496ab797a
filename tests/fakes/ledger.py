"""An in-memory ``Ledger`` that passes the same contract tests as the SQLite one."""

from __future__ import annotations

from collections.abc import Sequence

from domain.annotation import Annotation
from domain.decision import AgreedState


class FakeLedger:
    def __init__(self) -> None:
        self.entries: dict[str, AgreedState] = {}
        self.declines: dict[str, str] = {}
        self.writes = 0
        self.annotations: dict[str, list[Annotation]] = {}

    def get(self, book_id: str) -> AgreedState | None:
        return self.entries.get(book_id)

    def all(self) -> dict[str, AgreedState]:
        return dict(self.entries)

    def record(self, book_id: str, state: AgreedState) -> None:
        self.entries[book_id] = state
        self.writes += 1

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
