"""Row 11 cell by cell: each of the four direction x scenario cells as PROMPT, SILENT and NEVER.

Every other cell is NEVER, so a transfer proves that the decision consulted exactly this cell.
"""

from __future__ import annotations

import pytest

from domain import Action, ReadingPosition, Reason, Scenario, Transfer, decide
from tests.unit.domain.builders import policy_with, position

# cell name -> (kobo, koreader, expected transfer, expected scenario); no ledger, so the later
# timestamp picks the source.
CELLS: dict[str, tuple[ReadingPosition, ReadingPosition, Transfer, Scenario]] = {
    "from_kobo_newer": (position(0.7, at=10), position(0.4, at=1), Transfer.PULL, Scenario.NEWER),
    "from_kobo_older": (position(0.2, at=10), position(0.4, at=1), Transfer.PULL, Scenario.OLDER),
    "to_kobo_newer": (position(0.4, at=1), position(0.7, at=10), Transfer.PUSH, Scenario.NEWER),
    "to_kobo_older": (position(0.4, at=1), position(0.2, at=10), Transfer.PUSH, Scenario.OLDER),
}


@pytest.mark.parametrize("cell", CELLS)
def test_row_11_prompt_cell_transfers_after_confirmation(cell: str) -> None:
    kobo, koreader, transfer, scenario = CELLS[cell]
    decision = decide(kobo, koreader, None, policy_with(**{cell: Action.PROMPT}))
    source = kobo if transfer is Transfer.PULL else koreader
    assert (decision.transfer, decision.scenario, decision.position) == (transfer, scenario, source)
    assert decision.needs_confirmation
    assert decision.reason is None


@pytest.mark.parametrize("cell", CELLS)
def test_row_11_silent_cell_transfers_without_asking(cell: str) -> None:
    kobo, koreader, transfer, scenario = CELLS[cell]
    decision = decide(kobo, koreader, None, policy_with(**{cell: Action.SILENT}))
    assert (decision.transfer, decision.scenario) == (transfer, scenario)
    assert not decision.needs_confirmation


@pytest.mark.parametrize("cell", CELLS)
def test_row_11_never_cell_skips_with_policy_never(cell: str) -> None:
    kobo, koreader, _, scenario = CELLS[cell]
    everything_else_silent = {name: Action.SILENT for name in CELLS if name != cell}
    decision = decide(kobo, koreader, None, policy_with(**everything_else_silent))
    assert (decision.transfer, decision.reason, decision.scenario) == (
        Transfer.SKIP,
        Reason.POLICY_NEVER,
        scenario,
    )
    assert not decision.needs_confirmation
