"""KOReader's reading history, ``<data>/history.lua`` (docs/reference/koreader.md §5).

An array of ``{file = <realpath>, time = <epoch seconds>}``, most recent first; the time is when
the book was last opened or closed, the best "last read" time KOReader keeps. kksync only reads
it: KOReader rewrites the whole file from memory, so any edit would be lost or clobber its own.
A broken history file is logged and treated as empty, since the sidecar mtime is a fallback.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.koreader.lua_values import LuaTable
from application.errors import SidecarError

log = logging.getLogger(__name__)

HISTORY_FILE = "history.lua"


class ReadingHistory:
    """Last-read times by KOReader path, re-read only when ``history.lua`` changes."""

    def __init__(self, data_dir: Path, sandbox: LuaSandbox) -> None:
        self.path = data_dir / HISTORY_FILE
        self._sandbox = sandbox
        self._stamp: tuple[int, int] | None = None
        self._times: dict[str, datetime] = {}

    def time_of(self, koreader_path: str) -> datetime | None:
        """When KOReader last opened or closed this book, timezone-aware UTC; None if not listed."""
        self._refresh()
        return self._times.get(koreader_path)

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except OSError:
            self._stamp, self._times = None, {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            self._times = _times_by_file(self._sandbox.load_file(self.path, allow_empty=True))
        except SidecarError as error:
            log.warning("ignoring KOReader history: %s", error)
            self._times = {}
        self._stamp = stamp


def _times_by_file(history: LuaTable) -> dict[str, datetime]:
    times: dict[str, datetime] = {}
    for entry in history.values():
        if not isinstance(entry, dict):
            continue
        file, time = entry.get("file"), entry.get("time")
        if not isinstance(file, str) or isinstance(time, bool) or not isinstance(time, int | float):
            continue
        try:
            when = datetime.fromtimestamp(time, UTC)
        except (OverflowError, OSError, ValueError):
            continue
        if file not in times or when > times[file]:
            times[file] = when
    return times
