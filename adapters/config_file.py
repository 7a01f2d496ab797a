"""``<device>/.adds/kksync/config.toml``: the settings shared by every host and the KOReader plugin.

Settings come in layers: defaults, then the file, then ``KKSYNC_<SETTING>`` variables, then the
command line. ``layered_settings`` keeps where each value came from (``config show`` prints it)
and reads a broken file entry by entry, so the commands that repair it (``config set``, ``config
reset``) and ``config show`` still work and can name the line that is wrong.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from application.errors import ConfigurationError, DeviceError
from application.messages import cannot_write
from application.settings import Settings, parse_value

ENV_PREFIX = "KKSYNC_"
NOT_SETTINGS = frozenset({"DEVICE", "SD_CARD", "LOG", "DEVICE_ROOT"})
"""``KKSYNC_*`` variables that are not settings: the device, its SD card, the log level, and the
plugin's device root (KOReader's environment, which the daemon on the Kobo may inherit)."""

REPAIR_HINT = "fix it with `kksync config set KEY VALUE`, `kksync config reset [KEY]` or by editing the file"


def config_path(device_root: Path) -> Path:
    return device_root / ".adds" / "kksync" / "config.toml"


@dataclass(frozen=True)
class ConfigProblem:
    """One entry of config.toml that cannot be used, and the line it is on (when known)."""

    path: Path
    line: int | None
    message: str
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    @property
    def where(self) -> str:
        return f"{self.path} line {self.line}" if self.line else str(self.path)


@dataclass(frozen=True)
class ConfigFile:
    """What config.toml holds: its usable entries (with their lines) and its broken ones."""

    path: Path
    exists: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int | None] = field(default_factory=dict)
    problems: tuple[ConfigProblem, ...] = ()

    def refusal(self) -> ConfigurationError:
        """The error for commands that need every setting right: the first problem, and the fix."""
        more = len(self.problems) - 1
        others = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        return ConfigurationError(f"{self.problems[0]}{others}; {REPAIR_HINT}")


def read_config_file(path: Path) -> ConfigFile:
    """Read and validate config.toml; a broken entry becomes a problem, never an exception."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path)
    except (OSError, UnicodeDecodeError) as error:
        return ConfigFile(path, True, problems=(ConfigProblem(path, None, f"cannot be read: {error}"),))
    entries: list[tuple[str, Any, int | None]]
    problems: list[ConfigProblem] = []
    try:
        entries = [(key, value, _line_of(text, key)) for key, value in tomllib.loads(text).items()]
    except tomllib.TOMLDecodeError:
        entries, problems = _salvage(path, text)
    values: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    for key, value, line in entries:
        where = f"{path} line {line}" if line else str(path)
        try:
            parse_value(key, value, where)
        except ConfigurationError as error:
            problems.append(ConfigProblem(path, line, str(error).removeprefix(f"{where}: "), key))
            continue
        values[key], lines[key] = value, line
    problems.sort(key=lambda problem: problem.line or 0)
    return ConfigFile(path, True, values, lines, tuple(problems))


def _salvage(path: Path, text: str) -> tuple[list[tuple[str, Any, int | None]], list[ConfigProblem]]:
    """Line by line, the entries that still parse, and a problem for every line that does not."""
    entries: list[tuple[str, Any, int | None]] = []
    problems: list[ConfigProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            parsed = tomllib.loads(line)
        except tomllib.TOMLDecodeError as error:
            reason = str(error).split(" (at ")[0]
            problems.append(ConfigProblem(path, number, f"not valid TOML ({reason}): {line.strip()!r}"))
            continue
        entries.extend((key, value, number) for key, value in parsed.items())
    return entries, problems


def _line_of(text: str, key: str) -> int | None:
    """The line where ``key = …`` is written (bare or quoted key), for messages."""
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.split("=", 1)[0].strip().strip("\"'")
        if "=" in line and name == key:
            return number
    return None


def environment_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``KKSYNC_<SETTING>`` variables, by setting name (other ``KKSYNC_*`` names are left out)."""
    environ = os.environ if environ is None else environ
    known = set(Settings.names())
    found = {
        key[len(ENV_PREFIX) :].lower(): value for key, value in environ.items() if key.startswith(ENV_PREFIX)
    }
    return {name: value for name, value in found.items() if name in known}


def unknown_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ``KKSYNC_*`` variable that is neither a setting nor one of ``NOT_SETTINGS``.

    A stray variable (``KKSYNC_HOME`` left by a script) must not stop every command; a misspelt
    setting must not go unnoticed either: it is named, with the closest real name.
    """
    environ = os.environ if environ is None else environ
    real = [f"{ENV_PREFIX}{name.upper()}" for name in Settings.names()]
    real += [f"{ENV_PREFIX}{name}" for name in sorted(NOT_SETTINGS)]
    warnings = []
    for variable in sorted(environ):
        if variable.startswith(ENV_PREFIX) and variable not in real:
            close = difflib.get_close_matches(variable, real, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            warnings.append(f"ignoring {variable}: not a kksync setting or variable{hint}")
    return warnings


@dataclass(frozen=True)
class LayeredSettings:
    """The effective settings, where each one came from, and the state of config.toml."""

    settings: Settings
    origins: dict[str, str]
    file: ConfigFile


def layered_settings(
    device_root: Path,
    overrides: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    strict: bool = True,
) -> LayeredSettings:
    """Defaults, then config.toml, then ``KKSYNC_*`` variables, then the command line.

    ``strict``: a broken config.toml is refused (with the line and the fix); otherwise its usable
    entries count and its broken ones are left out (``file.problems`` says which).
    """
    file = read_config_file(config_path(device_root))
    if strict and file.problems:
        raise file.refusal()
    origins = dict.fromkeys(Settings.names(), "default")
    settings = Settings().merged(file.values, str(file.path))
    for key, line in file.lines.items():
        origins[key] = f"file, line {line}" if line else "file"
    for key, value in environment_settings(environ).items():
        variable = f"{ENV_PREFIX}{key.upper()}"
        settings = settings.merged({key: value}, f"environment variable {variable}")
        origins[key] = f"environment, {variable}"
    given = {key: value for key, value in overrides.items() if value is not None}
    settings = settings.merged(given, "command line")
    origins.update(dict.fromkeys(given, "command line"))
    return LayeredSettings(settings, origins, file)


def load_settings(
    device_root: Path, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Settings:
    """The effective settings; a broken config.toml or a bad value is a ``ConfigurationError``."""
    return layered_settings(device_root, overrides, environ).settings


def write_setting(device_root: Path, key: str, value: Any) -> Settings:
    """Validate and store one setting in config.toml, keeping the file's other usable settings.

    Works on a broken file too (that is how it gets repaired): entries that cannot be used are
    dropped, and the file as it was is kept as ``config.toml.bak`` (see ``dropped_by_rewrite``).
    """
    path = config_path(device_root)
    file = read_config_file(path)
    parsed = parse_value(key, value, str(path))
    stored = {k: v for k, v in file.values.items() if k != key}
    stored[key] = Settings().merged({key: parsed}, str(path)).as_plain()[key]
    settings = Settings().merged(stored, str(path))
    _rewrite(file, stored)
    return settings


def reset_settings(device_root: Path, key: str | None = None) -> ConfigFile:
    """Remove one setting (or all of them) from config.toml; the old file is kept as ``.bak``."""
    path = config_path(device_root)
    file = read_config_file(path)
    if key is not None and key not in Settings.names():
        known = ", ".join(Settings.names())
        raise ConfigurationError(f"config reset: unknown setting {key!r} (known settings: {known})")
    stored = {} if key is None else {k: v for k, v in file.values.items() if k != key}
    if file.exists:
        _rewrite(file, stored)
    return file


def _rewrite(file: ConfigFile, values: Mapping[str, Any]) -> None:
    """Write ``values``; when the old file had problems, keep it as ``config.toml.bak`` first."""
    import tomli_w

    path = file.path
    temporary = path.with_suffix(".toml.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if file.problems or (file.exists and not values):
            os.replace(path, path.with_name(path.name + ".bak"))
        temporary.write_text(
            "# kksync settings for this Kobo (see README 'Settings')\n"
            + tomli_w.dumps({k: v for k, v in values.items() if v is not None}),
            encoding="utf-8",
        )
        os.replace(temporary, path)
    except OSError as error:
        _discard(temporary)
        raise DeviceError(f"the setting was not stored: {cannot_write(path, error)}") from None


def _discard(temporary: Path) -> None:
    with contextlib.suppress(OSError):  # on a read-only file system it was never created
        temporary.unlink(missing_ok=True)
