"""``<device>/.adds/kksync/config.toml``: the settings shared by every host and the KOReader plugin."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from application.errors import ConfigurationError
from application.settings import Settings, parse_value

ENV_PREFIX = "KKSYNC_"


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
    """``KKSYNC_<SETTING>`` variables (``KKSYNC_DEVICE`` is the device, not a setting)."""
    environ = os.environ if environ is None else environ
    names = set(Settings.names())
    found = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :].lower() in names:
            found[key[len(ENV_PREFIX) :].lower()] = value
    return found


def load_settings(
    device_root: Path, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then the device's config.toml, then ``KKSYNC_*`` variables, then the command line."""
    path = config_path(device_root)
    settings = Settings().merged(read_config(path), str(path))
    settings = settings.merged(environment_settings(environ), "environment")
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

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(
        "# kksync settings for this Kobo (see README 'Settings')\n" + tomli_w.dumps(dict(values)),
        encoding="utf-8",
    )
    os.replace(temporary, path)
