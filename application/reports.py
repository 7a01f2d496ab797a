"""What the use cases return: plain report objects, never printed here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from application.annotation_reports import AnnotationReport
from application.records import BookKind, BookSource
from domain.decision import ConflictDecision, Transfer
from domain.policy import Direction, Scenario
from domain.position import ReadingPosition


@dataclass(frozen=True, slots=True)
class Question:
    """A PROMPT decision put to the person; ``token`` goes stale as soon as either side changes."""

    token: str
    book_id: str
    title: str
    direction: Direction
    scenario: Scenario
    kobo: ReadingPosition
    koreader: ReadingPosition | None

    @property
    def text(self) -> str:
        """The question as a person reads it, with both sides' percent and time."""
        source = "Kobo" if self.direction is Direction.FROM_KOBO else "KOReader"
        age = "newer" if self.scenario is Scenario.NEWER else "older"
        return "\n".join(
            [
                self.title,
                f"Kobo: {describe(self.kobo)}",
                f"KOReader: {describe(self.koreader)}",
                f"Sync {age} progress from {source}?",
            ]
        )


def describe(position: ReadingPosition | None) -> str:
    if position is None:
        return "never opened"
    percent = round(position.effective_progress * 100, 1)
    when = position.updated_at.strftime("%Y-%m-%d %H:%M UTC") if position.updated_at else "time unknown"
    return f"{percent:g} % ({when})"


@dataclass(frozen=True, slots=True)
class BookReport:
    """One book's outcome: the decision, both positions, and what was (or would be) written."""

    book_id: str
    title: str
    source: BookSource
    kind: BookKind
    decision: ConflictDecision
    kobo: ReadingPosition | None = None
    koreader: ReadingPosition | None = None
    written: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    question: Question | None = None
    kobo_percent_read: int | None = None
    """Nickel's own ``___PercentRead`` as stored, shown beside the percent computed from its span."""
    annotations: AnnotationReport | None = None  # None when annotations were not synced

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True, slots=True)
class RunReport:
    """A whole run: every book's report, and the backup made before the first Kobo write."""

    books: tuple[BookReport, ...]
    dry_run: bool = False
    backup: Path | None = None
    questions: tuple[Question, ...] = field(default=())

    def count(self, transfer: Transfer) -> int:
        """Books transferred this way (in a dry run: the transfers that would happen)."""
        return sum(
            1
            for b in self.books
            if b.decision.transfer is transfer and (b.written or self.dry_run) and not b.failed
        )

    @property
    def pulled(self) -> int:
        return self.count(Transfer.PULL)

    @property
    def pushed(self) -> int:
        return self.count(Transfer.PUSH)

    @property
    def failed(self) -> int:
        return sum(1 for b in self.books if b.failed)

    @property
    def skipped(self) -> int:
        return len(self.books) - self.pulled - self.pushed - self.failed
