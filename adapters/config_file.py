"""``<device>/.adds/kksync/config.toml``: the settings shared by every host and the KOReader plugin."""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from application.errors import ConfigurationError, DeviceError
from application.messages import cannot_write
from application.settings import Settings, parse_value

ENV_PREFIX = "KKSYNC_"
NOT_SETTINGS = frozenset({"DEVICE", "SD_CARD", "LOG", "DEVICE_ROOT"})
"""``KKSYNC_*`` variables that are not settings: the device, its SD card, the log level, and the
plugin's device root (KOReader's environment, which the daemon on the Kobo may inherit)."""


def config_path(device_root: Path) -> Path:
    return device_root / ".adds" / "kksync" / "config.toml"


def read_config(path: Path) -> dict[str, Any]:
    """The file's settings as written (validated later, so errors can name the file)."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: not a valid TOML file: {error}") from None


def environment_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``KKSYNC_<SETTING>`` variables, by setting name.

    Any other ``KKSYNC_*`` name (except ``NOT_SETTINGS``) is returned too, so that validation
    refuses it by name: a misspelt ``KKSYNC_SYNC_TO_KOBO_NEWR`` must not be silently ignored.
    """
    environ = os.environ if environ is None else environ
    return {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :] not in NOT_SETTINGS
    }


def load_settings(
    device_root: Path, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then the device's config.toml, then ``KKSYNC_*`` variables, then the command line."""
    path = config_path(device_root)
    settings = Settings().merged(read_config(path), str(path))
    for key, value in environment_settings(environ).items():
        settings = settings.merged({key: value}, f"environment variable {ENV_PREFIX}{key.upper()}")
    return settings.merged({k: v for k, v in overrides.items() if v is not None}, "command line")


def write_setting(device_root: Path, key: str, value: Any) -> Settings:
    """Validate and store one setting in config.toml, keeping the file's other settings."""
    path = config_path(device_root)
    stored = read_config(path)
    parsed = parse_value(key, value, str(path))
    stored[key] = Settings().merged({key: parsed}, str(path)).as_plain()[key]
    settings = Settings().merged(stored, str(path))
    _write_toml(path, {k: v for k, v in stored.items() if v is not None})
    return settings


def _write_toml(path: Path, values: Mapping[str, Any]) -> None:
    import tomli_w

    temporary = path.with_suffix(".toml.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(
            "# kksync settings for this Kobo (see README 'Settings')\n" + tomli_w.dumps(dict(values)),
            encoding="utf-8",
        )
        os.replace(temporary, path)
    except OSError as error:
        _discard(temporary)
        raise DeviceError(f"the setting was not stored: {cannot_write(path, error)}") from None


def _discard(temporary: Path) -> None:
    with contextlib.suppress(OSError):  # on a read-only file system it was never created
        temporary.unlink(missing_ok=True)
