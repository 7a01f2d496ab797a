"""``decide()``: the decision table of sync-rules.md, first matching row wins."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from domain.equivalence import equivalent, same_second, unchanged
from domain.policy import Action, Direction, Scenario, SyncPolicy
from domain.position import ReadingPosition
from domain.status import ReadingStatus


class Transfer(Enum):
    """What a sync does with one book."""

    PULL = "PULL"  # Kobo -> KOReader
    PUSH = "PUSH"  # KOReader -> Kobo
    SKIP = "SKIP"


class Reason(Enum):
    """Why a book is skipped (one per row of the decision table that ends in SKIP)."""

    DISABLED = "DISABLED"
    NOT_SYNCABLE = "NOT_SYNCABLE"
    NO_DATA = "NO_DATA"
    BOTH_FINISHED = "BOTH_FINISHED"
    IN_SYNC = "IN_SYNC"
    AMBIGUOUS = "AMBIGUOUS"
    DIRECTION_DISABLED = "DIRECTION_DISABLED"
    POLICY_NEVER = "POLICY_NEVER"
    DECLINED = "DECLINED"


@dataclass(frozen=True, slots=True)
class AgreedState:
    """A ledger entry: what both sides held right after the last successful sync of a book."""

    kobo: ReadingPosition | None
    koreader: ReadingPosition | None


@dataclass(frozen=True, slots=True)
class ConflictDecision:
    """The outcome for one book.

    ``position`` is the source position a transfer would write to the other side; ``scenario``
    is set whenever a transfer was considered (even if policy or a direction switch refused it).
    """

    transfer: Transfer
    reason: Reason | None = None
    scenario: Scenario | None = None
    needs_confirmation: bool = False
    position: ReadingPosition | None = None

    @property
    def direction(self) -> Direction | None:
        if self.transfer is Transfer.PULL:
            return Direction.FROM_KOBO
        if self.transfer is Transfer.PUSH:
            return Direction.TO_KOBO
        return None

    def declined(self) -> ConflictDecision:
        """A PROMPT answered "no": skipped, nothing written, the ledger left as it was."""
        return replace(self, transfer=Transfer.SKIP, reason=Reason.DECLINED, needs_confirmation=False)


def skip(reason: Reason, scenario: Scenario | None = None) -> ConflictDecision:
    return ConflictDecision(Transfer.SKIP, reason, scenario)


def decide(
    kobo: ReadingPosition | None,
    koreader: ReadingPosition | None,
    ledger: AgreedState | None,
    policy: SyncPolicy,
    *,
    syncable: bool = True,
) -> ConflictDecision:
    """Decide what to do with one book.

    ``kobo`` is None when the book is not in Nickel's database; ``koreader`` is None when
    KOReader has no sidecar for it; ``syncable`` is False when the book file is missing or
    encrypted for KOReader. Rows are numbered as in docs/sync-rules.md.
    """
    if not policy.enabled:  # 1
        return skip(Reason.DISABLED)
    if kobo is None or not syncable:  # 2
        return skip(Reason.NOT_SYNCABLE)
    kobo_holds = kobo.holds_progress
    koreader_holds = koreader is not None and koreader.holds_progress
    if not kobo_holds and not koreader_holds:  # 3
        return skip(Reason.NO_DATA)
    if koreader is not None and _both_finished(kobo, koreader):  # 4
        return skip(Reason.BOTH_FINISHED)
    if koreader is not None and equivalent(kobo, koreader):  # 5
        return skip(Reason.IN_SYNC)
    if ledger is not None and unchanged(kobo, ledger.kobo) and unchanged(koreader, ledger.koreader):
        return skip(Reason.IN_SYNC)  # 5b: both still hold what the last sync left them
    source = _source(kobo, koreader, ledger)  # 6, 7, 8
    if source is None:  # 9
        return skip(Reason.AMBIGUOUS)
    return _apply_policy(source, kobo, koreader, policy)  # 10, 11


def _both_finished(kobo: ReadingPosition, koreader: ReadingPosition) -> bool:
    return kobo.status is ReadingStatus.FINISHED and koreader.status is ReadingStatus.FINISHED


def _source(
    kobo: ReadingPosition, koreader: ReadingPosition | None, ledger: AgreedState | None
) -> Direction | None:
    """Rows 6-9: which side's position should win, or None when that cannot be told."""
    kobo_holds = kobo.holds_progress
    koreader_holds = koreader is not None and koreader.holds_progress
    if ledger is not None:
        kobo_changed = not unchanged(kobo, ledger.kobo)
        koreader_changed = not unchanged(koreader, ledger.koreader)
        if kobo_changed and not koreader_changed and kobo_holds:  # 6
            return Direction.FROM_KOBO
        if koreader_changed and not kobo_changed and koreader_holds:  # 7
            return Direction.TO_KOBO
    if not koreader_holds:  # 8: only one side holds progress
        return Direction.FROM_KOBO
    if not kobo_holds:
        return Direction.TO_KOBO
    assert koreader is not None
    return _later(kobo.updated_at, koreader.updated_at)


def _later(kobo_time: datetime | None, koreader_time: datetime | None) -> Direction | None:
    """Row 8 by timestamps (a missing one is the oldest); row 9 when they cannot tell."""
    if same_second(kobo_time, koreader_time):
        return None
    if koreader_time is None:
        return Direction.FROM_KOBO
    if kobo_time is None:
        return Direction.TO_KOBO
    return Direction.FROM_KOBO if kobo_time > koreader_time else Direction.TO_KOBO


def _apply_policy(
    direction: Direction,
    kobo: ReadingPosition,
    koreader: ReadingPosition | None,
    policy: SyncPolicy,
) -> ConflictDecision:
    """Rows 10-11: the direction switch, then the policy cell for direction x scenario."""
    source, target = (kobo, koreader) if direction is Direction.FROM_KOBO else (koreader, kobo)
    assert source is not None
    target_progress = target.effective_progress if target is not None else 0.0
    scenario = Scenario.OLDER if source.effective_progress < target_progress else Scenario.NEWER
    if not policy.allows(direction):  # 10
        return skip(Reason.DIRECTION_DISABLED, scenario)
    action = policy.action_for(direction, scenario)  # 11
    if action is Action.NEVER:
        return skip(Reason.POLICY_NEVER, scenario)
    transfer = Transfer.PULL if direction is Direction.FROM_KOBO else Transfer.PUSH
    return ConflictDecision(
        transfer,
        None,
        scenario,
        needs_confirmation=action is Action.PROMPT,
        position=source,
    )
