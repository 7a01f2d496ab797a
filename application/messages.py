"""How the failures that happen to people are worded: what failed, where, and what to do about it.

Kept in one place so the command line, the daemon and the adapters say the same thing the same way.
"""

from __future__ import annotations

import errno
from pathlib import Path

READ_ONLY_FIX = (
    "eject the Kobo and plug it in again; if it stays read-only its file system has errors "
    "(check it with fsck.vfat on Linux, First Aid on macOS, chkdsk on Windows)"
)
NO_PERMISSION_FIX = "make it writable for this user, or run kksync as the user who owns the Kobo's files"
INTERRUPTED = "interrupted; nothing was left half-written"


def read_only_device(detail: str) -> str:
    """The device-level message of a sync that cannot write at all."""
    return f"the Kobo is read-only ({detail}); nothing was synced. Fix: {READ_ONLY_FIX}"


def cannot_write(path: Path, error: OSError) -> str:
    """``cannot write <path>: <reason>; fix: …`` for a failed write of a file kksync owns."""
    reason = error.strerror or str(error) or type(error).__name__
    if error.errno == errno.EROFS:
        return f"cannot write {path}: {reason} (the Kobo is mounted read-only). Fix: {READ_ONLY_FIX}"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: {reason}. Fix: {NO_PERMISSION_FIX}"
    if error.errno == errno.ENOSPC:
        return f"cannot write {path}: {reason}. Fix: free some space on the Kobo"
    return f"cannot write {path}: {reason}"


def os_failure(error: OSError) -> str:
    """A file-system error nobody translated earlier: the reason and the file, on one line."""
    reason = error.strerror or str(error) or type(error).__name__
    where = f": {error.filename}" if error.filename else ""
    fix = ""
    if error.errno == errno.EROFS:
        fix = f". Fix: {READ_ONLY_FIX}"
    elif error.errno in (errno.EACCES, errno.EPERM):
        fix = f". Fix: {NO_PERMISSION_FIX}"
    return f"{reason}{where}{fix}"
