"""SyncPolicy defaults (product.md) and how settings text becomes an Action."""

from __future__ import annotations

import pytest

from domain import Action, Direction, Scenario, SyncPolicy


def test_defaults_are_the_recommended_settings() -> None:
    policy = SyncPolicy()
    assert (policy.enabled, policy.auto_sync, policy.from_kobo, policy.to_kobo) == (True, True, True, True)
    assert policy.action_for(Direction.FROM_KOBO, Scenario.NEWER) is Action.SILENT
    assert policy.action_for(Direction.FROM_KOBO, Scenario.OLDER) is Action.NEVER
    assert policy.action_for(Direction.TO_KOBO, Scenario.NEWER) is Action.SILENT
    assert policy.action_for(Direction.TO_KOBO, Scenario.OLDER) is Action.NEVER


def test_each_cell_is_looked_up_by_direction_and_scenario() -> None:
    policy = SyncPolicy(
        from_kobo_newer=Action.PROMPT,
        from_kobo_older=Action.SILENT,
        to_kobo_newer=Action.NEVER,
        to_kobo_older=Action.PROMPT,
    )
    assert policy.action_for(Direction.FROM_KOBO, Scenario.NEWER) is Action.PROMPT
    assert policy.action_for(Direction.FROM_KOBO, Scenario.OLDER) is Action.SILENT
    assert policy.action_for(Direction.TO_KOBO, Scenario.NEWER) is Action.NEVER
    assert policy.action_for(Direction.TO_KOBO, Scenario.OLDER) is Action.PROMPT


def test_direction_switches_are_independent() -> None:
    policy = SyncPolicy(from_kobo=False)
    assert not policy.allows(Direction.FROM_KOBO)
    assert policy.allows(Direction.TO_KOBO)
    policy = SyncPolicy(to_kobo=False)
    assert policy.allows(Direction.FROM_KOBO)
    assert not policy.allows(Direction.TO_KOBO)


@pytest.mark.parametrize(
    ("text", "action"),
    [("prompt", Action.PROMPT), ("SILENT", Action.SILENT), (" Never\n", Action.NEVER)],
)
def test_actions_parse_in_any_case(text: str, action: Action) -> None:
    assert Action.parse(text) is action


@pytest.mark.parametrize("text", ["ask", "", "silently"])
def test_unknown_actions_are_refused_with_the_allowed_values(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        Action.parse(text)
    assert str(raised.value) == f"{text!r} is not one of prompt, silent, never"
