"""``stamp``: one ``stat`` of a file, as the ``FileStamp`` the no-op shortcut compares."""

from __future__ import annotations

import os
import stat as stat_module
import time
from pathlib import Path

from application.records import MTIME_RESOLUTION_S, FileStamp

RESOLUTION_NS = int(MTIME_RESOLUTION_S * 1_000_000_000)


def stamp(path: Path) -> FileStamp | None:
    """The regular file's stamp, or None when it is missing, not a regular file or cannot be stat'ed."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat_module.S_ISREG(found.st_mode):
        return None
    return stamp_of(found)


def stamp_of(found: os.stat_result) -> FileStamp:
    """The stamp of a ``stat`` just taken; unsettled when the mtime is too close to now to trust."""
    settled = abs(time.time_ns() - found.st_mtime_ns) > RESOLUTION_NS
    return FileStamp(found.st_size, found.st_mtime_ns, found.st_ctime_ns, settled)
