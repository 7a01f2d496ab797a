"""One kksync at a time per Kobo on this host: an exclusive ``flock`` that the daemon and
``kksync sync`` both take, so two runs can never push the same book twice or make two backups.

The lock file holds the holder's pid and role (``daemon`` or ``sync``) so a second run can say
who is in the way. The kernel drops the lock when its process dies, so a crashed or killed run
never blocks the next one.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from application.errors import DeviceError

DAEMON, SYNC = "daemon", "sync"


@dataclass(frozen=True)
class LockHolder:
    """Who holds a device's lock, as its lock file says (pid None while it is being written)."""

    pid: int | None
    role: str

    @property
    def pid_text(self) -> str:
        return f"pid {self.pid}" if self.pid is not None else "pid unknown"


class DeviceBusy(DeviceError):
    """Another kksync holds this device's lock."""

    def __init__(self, message: str, holder: LockHolder) -> None:
        super().__init__(message)
        self.holder = holder


class DeviceLock:
    """The lock of one device; ``acquire`` it, keep the object alive while working, then ``release``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(
        self, role: str, *, wait: bool = False, on_wait: Callable[[LockHolder], None] | None = None
    ) -> None:
        """Take the lock, or raise ``DeviceBusy`` naming the holder (with ``wait``: block until free)."""
        handle = self.path.open("a+", encoding="utf-8")
        try:
            if not _try_lock(handle):
                holder = self.holder()
                if not wait:
                    raise DeviceBusy(f"locked by {holder.role} ({holder.pid_text})", holder)
                if on_wait is not None:
                    on_wait(holder)
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()} {role}\n")
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    def holder(self) -> LockHolder:
        """Who holds the lock now, from the file (read without taking the lock)."""
        try:
            words = self.path.read_text(encoding="utf-8").split()
        except OSError:
            words = []
        pid = int(words[0]) if words and words[0].isdigit() else None
        role = words[1] if len(words) > 1 else SYNC
        return LockHolder(pid, role)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True
