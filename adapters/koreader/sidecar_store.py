"""Putting a sidecar on disk without ever leaving a broken one (docs/reference/koreader.md §3.3).

KOReader itself truncates and rewrites in place; a crash mid-write leaves a short file that it
then deletes on open. kksync writes a temporary file in the same folder, flushes it to disk and
renames it over the target, so the target is always either the old or the new complete file.

The previous version is kept as ``<file>.old`` exactly when KOReader would keep it: only if the
target is more than 60 seconds old; a younger target is overwritten and the existing ``.old``
(possibly much older) stays as it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
from pathlib import Path

from adapters.koreader.locations import BACKUP_SUFFIX

log = logging.getLogger(__name__)

ROTATE_AFTER_SECONDS = 60
NEW_FILE_MODE = 0o644
TEMP_SUFFIX = ".kksync-tmp"
TEMP_NAME = re.compile(r"\.metadata\.[^/]+\.lua\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
"""What ``replace_file`` names its temporary files (``tempfile.mkstemp``: 8 random characters)."""


def should_rotate(target: Path, now: float) -> bool:
    """KOReader's rule: back the target up only when it was last written over 60 s ago.

    An empty target is never rotated: it holds nothing, and renaming it would replace a useful
    ``.old`` (the copy KOReader falls back to) with an empty file.
    """
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    return stat.st_size > 0 and now - stat.st_mtime > ROTATE_AFTER_SECONDS


def replace_file(target: Path, content: bytes, *, now: float) -> bool:
    """Atomically make ``target`` hold ``content``; return whether the old file became ``.old``."""
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    mode = _mode_of(target)
    rotate = should_rotate(target, now)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(OSError):  # FAT and some mounts have no permission bits
            os.chmod(temp, mode)
        if rotate:
            os.replace(target, target.with_name(target.name + BACKUP_SUFFIX))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _sync_folder(folder)
    log.debug("wrote %s (%d bytes, backup rotated: %s)", target, len(content), rotate)
    return rotate


def _mode_of(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return NEW_FILE_MODE


def _sync_folder(folder: Path) -> None:
    """Make the renames durable; not every platform can open a folder, which is fine."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def remove_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files an interrupted ``replace_file`` left in ``folder``; return them.

    Only names ``replace_file`` itself makes are touched, and only regular files: anything else
    in a sidecar folder belongs to KOReader or the person.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder (the usual case), or not a folder
        return []
    removed = []
    for entry in entries:
        if not TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            if not stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                continue
            os.unlink(entry.path)
        except OSError as error:
            log.warning("could not remove kksync's temporary file %s: %s", entry.path, error)
            continue
        removed.append(Path(entry.path))
    return removed
