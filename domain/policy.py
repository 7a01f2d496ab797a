"""What the person allows: ``SyncPolicy`` and its ``Action`` cells (product.md defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Action(Enum):
    """What to do in one policy cell."""

    PROMPT = "PROMPT"
    SILENT = "SILENT"
    NEVER = "NEVER"

    @classmethod
    def parse(cls, text: str) -> Action:
        """Accept ``prompt``/``silent``/``never`` in any case; anything else is a ValueError."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            allowed = ", ".join(a.value.lower() for a in cls)
            raise ValueError(f"{text!r} is not one of {allowed}") from None


class Direction(Enum):
    """Which way a transfer goes."""

    FROM_KOBO = "FROM_KOBO"  # pull: Kobo -> KOReader
    TO_KOBO = "TO_KOBO"  # push: KOReader -> Kobo


class Scenario(Enum):
    """NEWER when the source has at least the target's progress; OLDER when someone went back."""

    NEWER = "NEWER"
    OLDER = "OLDER"


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    """The eight settings people know; the defaults are the recommended ones of product.md."""

    enabled: bool = True
    auto_sync: bool = True
    from_kobo: bool = True
    to_kobo: bool = True
    from_kobo_newer: Action = Action.SILENT
    from_kobo_older: Action = Action.NEVER
    to_kobo_newer: Action = Action.SILENT
    to_kobo_older: Action = Action.NEVER

    def allows(self, direction: Direction) -> bool:
        return self.from_kobo if direction is Direction.FROM_KOBO else self.to_kobo

    def action_for(self, direction: Direction, scenario: Scenario) -> Action:
        if direction is Direction.FROM_KOBO:
            return self.from_kobo_newer if scenario is Scenario.NEWER else self.from_kobo_older
        return self.to_kobo_newer if scenario is Scenario.NEWER else self.to_kobo_older
