"""``KKSYNC_LOG``: the log level on stderr, forgiving a value that is not one."""

from __future__ import annotations

import logging

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LEVEL = "WARNING"


def log_level(value: str | None) -> tuple[int, str | None]:
    """The level to log at, and a one-line complaint when ``value`` names no level.

    A typo in a debugging aid must not stop a sync: the default is used instead, and said so.
    """
    if value is None or not value.strip():
        return logging.WARNING, None
    name = value.strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    if level is None:
        valid = ", ".join(LEVELS)
        return (
            logging.WARNING,
            f"KKSYNC_LOG={value!r} is not a log level; use one of {valid} (using {DEFAULT_LEVEL})",
        )
    return level, None
