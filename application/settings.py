"""The settings people know from the KOReader Kobo-plugin world, validated in one place.

The same names are used in ``config.toml``, in ``KKSYNC_*`` environment variables, on the command
line and over the plugin RPC, so a value means the same thing wherever it is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from application.errors import ConfigurationError
from domain.policy import Action, SyncPolicy

TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}
ACTION_WORDS = ", ".join(action.value.lower() for action in Action)


@dataclass(frozen=True)
class Settings:
    """Every setting with its default (the recommended defaults of product.md)."""

    sync_reading_state: bool = True
    enable_auto_sync: bool = True
    enable_sync_from_kobo: bool = True
    enable_sync_to_kobo: bool = True
    sync_from_kobo_newer: Action = Action.SILENT
    sync_from_kobo_older: Action = Action.NEVER
    sync_to_kobo_newer: Action = Action.SILENT
    sync_to_kobo_older: Action = Action.NEVER
    busy_timeout_seconds: float = 10.0
    koreader_dir: Path | None = None
    sync_annotations: bool = True

    @classmethod
    def names(cls) -> list[str]:
        return [field.name for field in fields(cls)]

    def merged(self, values: Mapping[str, Any], origin: str) -> Settings:
        """These settings with ``values`` applied on top; a bad key or value names both."""
        changes = {key: parse_value(key, value, origin) for key, value in values.items()}
        return replace(self, **changes)

    def policy(self) -> SyncPolicy:
        return SyncPolicy(
            enabled=self.sync_reading_state,
            auto_sync=self.enable_auto_sync,
            from_kobo=self.enable_sync_from_kobo,
            to_kobo=self.enable_sync_to_kobo,
            from_kobo_newer=self.sync_from_kobo_newer,
            from_kobo_older=self.sync_from_kobo_older,
            to_kobo_newer=self.sync_to_kobo_newer,
            to_kobo_older=self.sync_to_kobo_older,
        )

    def as_plain(self) -> dict[str, Any]:
        """JSON/TOML-friendly values: booleans, lower-case actions, numbers, strings."""
        plain: dict[str, Any] = {}
        for name in self.names():
            value = getattr(self, name)
            if isinstance(value, Action):
                value = value.value.lower()
            elif isinstance(value, Path):
                value = str(value)
            plain[name] = value
        return plain


def parse_value(key: str, value: Any, origin: str) -> Any:
    """Turn a raw value (TOML, environment text, JSON) into the setting's type."""
    kind = _KINDS.get(key)
    if kind is None:
        allowed = ", ".join(Settings.names())
        raise ConfigurationError(
            f"{origin}: unknown setting {key!r} (set to {value!r}; known settings: {allowed})"
        )
    try:
        return kind(value)
    except (ValueError, TypeError) as error:
        raise ConfigurationError(f"{origin}: {key} = {value!r} is not allowed: {error}") from None


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError("allowed values are true, false")


def _action(value: Any) -> Action:
    if isinstance(value, Action):
        return value
    if not isinstance(value, str):
        raise ValueError(f"allowed values are {ACTION_WORDS}")
    try:
        return Action.parse(value)
    except ValueError:
        raise ValueError(f"allowed values are {ACTION_WORDS}") from None


_SECONDS_ALLOWED = "allowed values are numbers of seconds from 0 to 600"


def _seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(_SECONDS_ALLOWED)
    try:
        seconds = float(value)
    except (ValueError, TypeError):
        raise ValueError(_SECONDS_ALLOWED) from None
    if not 0 <= seconds <= 600:  # also refuses NaN
        raise ValueError(_SECONDS_ALLOWED)
    return seconds


def _folder(value: Any) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | Path):
        raise ValueError("allowed values are folder paths")
    return Path(value).expanduser()


ALLOWED_VALUES = {
    "sync_reading_state": "true, false",
    "enable_auto_sync": "true, false",
    "enable_sync_from_kobo": "true, false",
    "enable_sync_to_kobo": "true, false",
    "sync_from_kobo_newer": ACTION_WORDS,
    "sync_from_kobo_older": ACTION_WORDS,
    "sync_to_kobo_newer": ACTION_WORDS,
    "sync_to_kobo_older": ACTION_WORDS,
    "busy_timeout_seconds": "seconds, 0 to 600",
    "koreader_dir": "a folder (absolute path preferred); empty for <device>/.adds/koreader",
    "sync_annotations": "true, false",
}
"""What each setting accepts, in words, for help texts and error messages."""

_KINDS = {
    "sync_reading_state": _boolean,
    "enable_auto_sync": _boolean,
    "enable_sync_from_kobo": _boolean,
    "enable_sync_to_kobo": _boolean,
    "sync_from_kobo_newer": _action,
    "sync_from_kobo_older": _action,
    "sync_to_kobo_newer": _action,
    "sync_to_kobo_older": _action,
    "busy_timeout_seconds": _seconds,
    "koreader_dir": _folder,
    "sync_annotations": _boolean,
}
