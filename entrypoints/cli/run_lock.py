"""``kksync sync`` takes the device lock the daemon takes: one run at a time per Kobo.

Only commands that write the device take it. ``books``, ``status`` and ``sync --dry-run`` only
read (a reader never sees half a write: Nickel's rows change in transactions, sidecars by
rename), so they run beside a sync or the daemon. ``backup`` writes only a new, uniquely named
file, and ``config set`` replaces one file atomically; neither needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.device_lock import DAEMON, SYNC, DeviceBusy, DeviceLock, LockHolder
from application.errors import DeviceError
from entrypoints.daemon.runtime_dir import device_lock_path


class AnotherRun(DeviceError):
    """Another kksync (a sync or the daemon) works on this Kobo; nothing was done."""


def claim_device(root: Path, *, wait: bool, say: Callable[[str], None]) -> DeviceLock:
    """The device lock, held until the returned object is released or the process ends."""
    lock = DeviceLock(device_lock_path(root))
    try:
        lock.acquire(SYNC, wait=False)
    except DeviceBusy as busy:
        if busy.holder.role == DAEMON:
            raise AnotherRun(daemon_message(busy.holder)) from None
        if not wait:
            message = f"another kksync is syncing this Kobo ({busy.holder.pid_text}); nothing was done. "
            raise AnotherRun(message + "Run again when it is done, or add --wait") from None
        lock.acquire(SYNC, wait=True, on_wait=lambda holder: say(waiting_message(holder)))
    return lock


def daemon_message(holder: LockHolder) -> str:
    return (
        f"the kksync daemon ({holder.pid_text}) syncs this Kobo by itself, on every change; "
        "nothing was done. Use 'kksync status' to see where it stands, or stop the daemon to sync by hand"
    )


def waiting_message(holder: LockHolder) -> str:
    return f"waiting for the other kksync ({holder.pid_text}) to finish syncing this Kobo…"
