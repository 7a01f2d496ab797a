"""Instruments the benchmark reads: wall time, SQL statements, peak memory, file fingerprints."""

from __future__ import annotations

import hashlib
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")
MIB = 1024 * 1024


@dataclass
class Elapsed:
    """Seconds a ``timed`` block took; read after the block ends."""

    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Elapsed]:
    elapsed = Elapsed()
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.seconds = time.perf_counter() - start


@dataclass
class StatementCounter:
    """Every statement an engine sends, by leading keyword, and the transactions it commits.

    Listens on SQLAlchemy's ``before_cursor_execute`` (an ``executemany`` counts once, as the
    one round trip it is) and ``commit``; ``detach`` stops counting.
    """

    engine: Engine
    by_verb: Counter[str] = field(default_factory=Counter)
    commits: int = 0

    def __post_init__(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)

    @property
    def total(self) -> int:
        return sum(self.by_verb.values())

    @property
    def writes(self) -> int:
        return sum(self.by_verb[verb] for verb in ("UPDATE", "INSERT", "DELETE", "REPLACE"))

    def detach(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        self.by_verb[verb] += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1


@dataclass
class CallTimer:
    """Wraps one bound method of an object to time each call (e.g. the Kobo database backup)."""

    calls: int = 0
    seconds: float = 0.0

    def wrap(self, method: Callable[..., T]) -> Callable[..., T]:
        def timed_call(*args: Any, **kwargs: Any) -> T:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.calls += 1
                self.seconds += time.perf_counter() - start

        return timed_call


def peak_rss_mib() -> float:
    """The process's resident-set high-water mark so far (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def fingerprint(root: Path, *, skip: tuple[str, ...] = ("backups",)) -> dict[str, str]:
    """SHA-256 of every file under ``root`` by relative path, leaving out folders named in ``skip``."""
    digests = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part in skip for part in path.relative_to(root).parts):
            with path.open("rb") as stream:  # in chunks: a whole database in memory would skew peak RSS
                digests[str(path.relative_to(root))] = hashlib.file_digest(stream, "sha256").hexdigest()
    return digests


@dataclass(frozen=True)
class FileChanges:
    """What differs between two fingerprints of the same folder."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @classmethod
    def between(cls, before: dict[str, str], after: dict[str, str]) -> FileChanges:
        return cls(
            added=tuple(sorted(after.keys() - before.keys())),
            changed=tuple(sorted(n for n in before.keys() & after.keys() if before[n] != after[n])),
            removed=tuple(sorted(before.keys() - after.keys())),
        )

    @property
    def none(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def count(self, predicate: Callable[[str], bool]) -> int:
        """Files added or changed whose relative path matches ``predicate``."""
        return sum(1 for name in self.added + self.changed if predicate(name))
