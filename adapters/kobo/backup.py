"""Timestamped, verified copies of ``KoboReader.sqlite`` taken before kksync writes to it.

SQLite's online backup API copies the database as any reader sees it, committed ``-wal`` content
included, which a plain file copy would lose. Each copy is checked with ``PRAGMA
integrity_check`` before it counts; only the newest ``keep`` copies are kept.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from application.errors import BackupError, KoboDatabaseLocked
from application.messages import cannot_write

logger = logging.getLogger(__name__)

BACKUP_STAMP = "%Y%m%dT%H%M%SZ"
SQLITE_LOCK_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
BACKUP_RETRY_SECONDS = 0.1
PARTIAL_SUFFIX = ".partial"
RESTORING_SUFFIX = ".kksync-restore"
NICKEL_COLUMNS = frozenset({"ContentID", "ContentType", "BookID", "ChapterIDBookmarked", "ReadStatus"})
"""Columns of Nickel's ``content`` table that every firmware kksync knows has: a file without them
is not a Kobo database, whatever else it holds."""
_BACKUP_NAME = re.compile(r"KoboReader-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<counter>\d+))?\.sqlite")


@dataclass(frozen=True)
class BackupStore:
    """The backups folder of one device and how many copies it keeps."""

    folder: Path
    keep: int = 10
    busy_timeout: float = 10.0
    """How long the copy waits for a lock Nickel holds before it gives up (sqlite3's own backup
    loop would retry for ever)."""

    def take(
        self, source: sqlite3.Connection, now: datetime, on_wait: Callable[[], None] | None = None
    ) -> Path:
        """Copy ``source`` into a new backup file, verify it, prune old ones; return its path."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _check_writable(self.folder)
            target = self._free_name(now)
        except OSError as error:
            message = f"Backup of the Kobo database failed: {cannot_write(self.folder, error)}"
            raise BackupError(message) from None
        partial = target.with_name(target.name + PARTIAL_SUFFIX)
        try:
            self._write(source, partial, target, on_wait)
        except BaseException:
            _discard(partial)  # a half-written copy must not stay on the device, whatever went wrong
            raise
        logger.info("backed up the Kobo database to %s", target)
        self.prune()
        return target

    def _write(
        self, source: sqlite3.Connection, partial: Path, target: Path, on_wait: Callable[[], None] | None
    ) -> None:
        """Copy into ``partial``, verify it, then rename it to ``target``; failures as ``BackupError``."""
        try:
            _copy(source, partial, LockPatience(self.busy_timeout, on_wait))
            problem = integrity_problem(partial)
            if problem is None:
                partial.replace(target)
        except (OSError, sqlite3.Error) as error:
            raise self._failed(error) from error
        if problem is not None:
            raise BackupError(f"Backup {target} failed its integrity check ({problem}); it was deleted")

    def _failed(self, error: Exception) -> BackupError:
        return BackupError(f"Backup of the Kobo database into {self.folder} failed: {error}")

    def backups(self) -> list[Path]:
        """Existing backups, oldest first (by their timestamp, then their same-second counter)."""
        found = []
        for path in self.folder.glob("KoboReader-*.sqlite"):
            match = _BACKUP_NAME.fullmatch(path.name)
            if match is not None:
                found.append((match["stamp"], int(match["counter"] or 0), path))
        return [path for _, _, path in sorted(found)]

    def find(self, name: str) -> Path:
        """A backup named by its file name (or path, or stamp such as ``20261123T120000Z``)."""
        for path in reversed(self.backups()):
            if name in (path.name, str(path), path.stem.removeprefix("KoboReader-")):
                return path
        given = Path(name)
        if given.is_file():
            return given
        newest = ", ".join(path.name for path in self.backups()[-3:]) or "none yet"
        raise BackupError(
            f"no backup {name!r} in {self.folder} (newest: {newest}); see `kksync backup --list`"
        )

    def restore(self, backup: Path, database: Path, now: datetime) -> Path:
        """Put ``backup`` in place of ``database``; return where the replaced database was kept.

        The backup is verified first (integrity and Nickel's tables). The current database
        (with its ``-wal``) is kept as a new backup; when it is itself corrupt, as
        ``KoboReader-<stamp>.corrupt.sqlite``, which is never restored by default nor pruned. The
        new file is written beside the database and renamed over it, so an interruption leaves
        either the old database or the restored one, never a mixture.
        """
        problem = restore_problem(backup)
        if problem is not None:
            raise BackupError(f"{backup} cannot be restored: {problem}; nothing was changed")
        incoming = database.with_name(database.name + RESTORING_SUFFIX)
        try:
            shutil.copyfile(backup, incoming)  # first: keeping the current file may prune ``backup``
            with incoming.open("rb+") as handle:
                os.fsync(handle.fileno())
            self.folder.mkdir(parents=True, exist_ok=True)
            kept = self._keep_current(database, now)
            for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
                leftover.unlink(missing_ok=True)  # they belong to the replaced file (kept above)
            incoming.replace(database)
        except BaseException as error:
            incoming.unlink(missing_ok=True)  # never leave a second full copy on the device
            if isinstance(error, OSError | sqlite3.Error):
                raise BackupError(f"Restoring {backup} over {database} failed: {error}") from error
            raise
        logger.info("restored %s from %s (the replaced database is kept as %s)", database, backup, kept)
        return kept

    def _keep_current(self, database: Path, now: datetime) -> Path:
        if integrity_problem(database) is None:
            with closing(sqlite3.connect(database)) as current:
                return self.take(current, now)
        target = self._free_name(now)
        target = target.with_name(target.name.replace(".sqlite", ".corrupt.sqlite"))
        for suffix in ("", "-wal"):
            source = Path(f"{database}{suffix}")
            if source.exists():
                shutil.copyfile(source, Path(f"{target}{suffix}"))
        return target

    def remove_partials(self) -> list[Path]:
        """Delete unfinished copies an interrupted run left (``KoboReader-<stamp>.sqlite.partial``
        and its journal); only this store's own names are touched."""
        removed = []
        for path in self.folder.glob("KoboReader-*.sqlite.partial*"):
            name = path.name.removesuffix("-journal").removesuffix(PARTIAL_SUFFIX)
            if _BACKUP_NAME.fullmatch(name) is None or not path.is_file():
                continue
            try:
                path.unlink()
            except OSError as error:
                logger.warning("could not remove the unfinished backup %s: %s", path, error)
                continue
            removed.append(path)
        return removed

    def prune(self) -> None:
        """Delete all but the newest ``keep`` backups."""
        existing = self.backups()
        for old in existing[: max(len(existing) - self.keep, 0)]:
            old.unlink(missing_ok=True)
            logger.debug("deleted old backup %s", old)

    def _free_name(self, now: datetime) -> Path:
        """``KoboReader-<stamp>.sqlite``, or ``…-<n>.sqlite`` if that second is already taken."""
        stamp = now.astimezone(UTC).strftime(BACKUP_STAMP)
        candidate = self.folder / f"KoboReader-{stamp}.sqlite"
        counter = 0
        while candidate.exists() or candidate.with_name(candidate.name + PARTIAL_SUFFIX).exists():
            counter += 1
            candidate = self.folder / f"KoboReader-{stamp}-{counter}.sqlite"
        return candidate


def _check_writable(folder: Path) -> None:
    """Fail before SQLite does, with the reason SQLite would not give ("unable to open database file")."""
    statvfs = getattr(os, "statvfs", None)
    if statvfs is not None and statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder))
    if not os.access(folder, os.W_OK):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(folder))


def integrity_problem(path: Path) -> str | None:
    """None when ``PRAGMA integrity_check`` says ``ok``, else what it (or SQLite) reported."""
    try:
        with closing(sqlite3.connect(path)) as copy:
            rows = copy.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.Error as error:
        return str(error)
    messages = [str(row[0]) for row in rows]
    return None if messages == ["ok"] else "; ".join(messages[:3])


def restore_problem(path: Path) -> str | None:
    """None when ``path`` is a sound Nickel database, else what is wrong with it."""
    if not path.is_file():
        return "no such file"
    problem = integrity_problem(path)
    if problem is not None:
        return f"it fails its integrity check ({problem})"
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as copy:
            columns = {row[1] for row in copy.execute("PRAGMA table_info(content)")}
    except sqlite3.Error as error:
        return str(error)
    missing = sorted(NICKEL_COLUMNS - columns)
    return f"it is not a Kobo database (its content table lacks {', '.join(missing)})" if missing else None


def _discard(partial: Path) -> None:
    """Delete an unfinished copy and any rollback journal SQLite left beside it.

    Only logs when that fails too: the caller re-raises the error that stopped the backup, which
    is the one the person needs to see.
    """
    for path in (partial, partial.with_name(partial.name + "-journal")):
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            logger.warning("could not delete the unfinished backup %s: %s", path, error)


class LockPatience:
    """The backup's progress callback: says when it starts waiting, gives up at the busy timeout."""

    def __init__(self, seconds: float, on_wait: Callable[[], None] | None) -> None:
        self.seconds = seconds
        self.on_wait = on_wait
        self.waiting_since: float | None = None

    def __call__(self, status: int, remaining: int, total: int) -> None:
        if status not in SQLITE_LOCK_CODES:
            self.waiting_since = None
            return
        now = time.monotonic()
        if self.waiting_since is None:
            self.waiting_since = now
            if self.on_wait is not None:
                self.on_wait()
        if now - self.waiting_since >= self.seconds:
            raise KoboDatabaseLocked(
                f"Kobo database is locked: no backup made after waiting {self.seconds:g} s "
                "(is Nickel busy?); nothing was written. Try again when the Kobo is idle"
            )


def _copy(source: sqlite3.Connection, target: Path, patience: LockPatience) -> None:
    with closing(sqlite3.connect(target)) as copy:
        source.backup(copy, progress=patience, sleep=BACKUP_RETRY_SECONDS)
