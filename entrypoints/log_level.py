"""``KKSYNC_LOG``: the log level on stderr (or the daemon's log), forgiving a value that is not one."""

from __future__ import annotations

import logging

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(value: str | None, default: str = "WARNING") -> tuple[int, str | None]:
    """The level to log at, and a one-line complaint when ``value`` names no level.

    A typo in a debugging aid must not stop a sync: the default is used instead, and said so.
    """
    fallback = logging.getLevelNamesMapping()[default]
    if value is None or not value.strip():
        return fallback, None
    name = value.strip().upper()
    if name not in LEVELS:
        valid = ", ".join(LEVELS)
        return fallback, f"KKSYNC_LOG={value!r} is not a log level; use one of {valid} (using {default})"
    return logging.getLevelNamesMapping()[name], None
