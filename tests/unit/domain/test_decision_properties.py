"""Properties of decide() over every combination of inputs (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from domain import (
    Action,
    AgreedState,
    Direction,
    ReadingPosition,
    ReadingStatus,
    Reason,
    Scenario,
    SyncPolicy,
    Transfer,
    decide,
)
from tests.unit.domain.strategies import (
    PROPERTY,
    ledgers_for,
    maybe_positions,
    policies,
    positions,
    symmetric_policies,
)

CELLS = {
    (Direction.FROM_KOBO, Scenario.NEWER): "from_kobo_newer",
    (Direction.FROM_KOBO, Scenario.OLDER): "from_kobo_older",
    (Direction.TO_KOBO, Scenario.NEWER): "to_kobo_newer",
    (Direction.TO_KOBO, Scenario.OLDER): "to_kobo_older",
}


@st.composite
def situations(
    draw: st.DrawFn,
) -> tuple[ReadingPosition | None, ReadingPosition | None, AgreedState | None]:
    kobo, koreader = draw(maybe_positions), draw(maybe_positions)
    return kobo, koreader, draw(ledgers_for(kobo, koreader))


@PROPERTY
@given(situations(), policies, st.booleans())
def test_decide_never_raises_and_its_answer_is_consistent(
    situation: tuple[ReadingPosition | None, ReadingPosition | None, AgreedState | None],
    policy: SyncPolicy,
    syncable: bool,
) -> None:
    kobo, koreader, ledger = situation
    decision = decide(kobo, koreader, ledger, policy, syncable=syncable)
    if decision.transfer is Transfer.SKIP:
        assert decision.reason is not None and decision.position is None and not decision.needs_confirmation
        return
    source = kobo if decision.transfer is Transfer.PULL else koreader
    assert decision.reason is None and decision.scenario is not None
    assert decision.position is source
    assert source is not None and source.holds_progress
    assert policy.enabled and syncable and kobo is not None
    assert decision.direction is not None and policy.allows(decision.direction)
    action = policy.action_for(decision.direction, decision.scenario)
    assert action is not Action.NEVER
    assert decision.needs_confirmation == (action is Action.PROMPT)


@PROPERTY
@given(situations(), policies, st.sampled_from(sorted(CELLS.values())))
def test_never_in_a_policy_cell_never_yields_a_transfer_for_that_cell(
    situation: tuple[ReadingPosition | None, ReadingPosition | None, AgreedState | None],
    policy: SyncPolicy,
    cell: str,
) -> None:
    kobo, koreader, ledger = situation
    never_there: SyncPolicy = replace(policy, **{cell: Action.NEVER})  # type: ignore[arg-type]
    decision = decide(kobo, koreader, ledger, never_there)
    if decision.transfer is not Transfer.SKIP:
        assert decision.direction is not None and decision.scenario is not None
        assert CELLS[decision.direction, decision.scenario] != cell


@PROPERTY
@given(positions, positions, st.data(), symmetric_policies())
def test_swapping_the_sides_of_a_symmetric_policy_swaps_pull_and_push(
    kobo: ReadingPosition, koreader: ReadingPosition, data: st.DataObject, policy: SyncPolicy
) -> None:
    ledger = data.draw(ledgers_for(kobo, koreader))
    swapped_ledger = None if ledger is None else AgreedState(ledger.koreader, ledger.kobo)
    straight = decide(kobo, koreader, ledger, policy)
    swapped = decide(koreader, kobo, swapped_ledger, policy)
    mirror = {Transfer.PULL: Transfer.PUSH, Transfer.PUSH: Transfer.PULL, Transfer.SKIP: Transfer.SKIP}
    assert swapped.transfer is mirror[straight.transfer]
    assert (swapped.reason, swapped.scenario, swapped.position) == (
        straight.reason,
        straight.scenario,
        straight.position,
    )


transferring_policies = st.builds(
    SyncPolicy,
    from_kobo_newer=st.sampled_from([Action.PROMPT, Action.SILENT]),
    from_kobo_older=st.sampled_from([Action.PROMPT, Action.SILENT]),
    to_kobo_newer=st.sampled_from([Action.PROMPT, Action.SILENT]),
    to_kobo_older=st.sampled_from([Action.PROMPT, Action.SILENT]),
)


@PROPERTY
@given(positions, maybe_positions, st.data(), transferring_policies)
def test_after_the_decided_transfer_the_next_sync_does_nothing(
    kobo: ReadingPosition, koreader: ReadingPosition | None, data: st.DataObject, policy: SyncPolicy
) -> None:
    ledger = data.draw(ledgers_for(kobo, koreader))
    decision = decide(kobo, koreader, ledger, policy)
    assume(decision.transfer is not Transfer.SKIP)
    source = decision.position
    assert source is not None
    if decision.transfer is Transfer.PULL:
        koreader = source
    else:
        kobo = source
    again = decide(kobo, koreader, AgreedState(kobo, koreader), policy)
    expected = Reason.BOTH_FINISHED if source.status is ReadingStatus.FINISHED else Reason.IN_SYNC
    assert (again.transfer, again.reason) == (Transfer.SKIP, expected)


@PROPERTY
@given(situations(), policies)
def test_an_unopened_kobo_book_is_never_pulled(
    situation: tuple[ReadingPosition | None, ReadingPosition | None, AgreedState | None],
    policy: SyncPolicy,
) -> None:
    _, koreader, ledger = situation
    decision = decide(ReadingPosition(0.0, ReadingStatus.UNOPENED), koreader, ledger, policy)
    assert decision.transfer is not Transfer.PULL
