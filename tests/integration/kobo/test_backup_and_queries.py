"""Backups of the Nickel database, and the constant number of queries a library read takes."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from adapters.kobo.backup import BackupStore
from adapters.kobo.library import NickelLibrary
from application.errors import BackupError
from entrypoints.demo.nickel_builder import add_kepub_book
from tests.support.nickel import IDS, KOMGA_SPINE, sample_device


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


NOON = datetime(2025, 5, 6, 12, 0, 0, tzinfo=UTC)


@contextmanager
def counted_statements(library: NickelLibrary) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = library.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_reading_the_library_takes_the_same_queries_for_8_or_108_books(tmp_path: Path) -> None:
    small = sample_device(tmp_path / "small")
    large = sample_device(tmp_path / "large")
    for number in range(100):
        add_kepub_book(
            large.database,
            content_id=f"file:///mnt/onboard/many/{number}.kepub.epub",
            title=f"Book {number}",
            chapters=KOMGA_SPINE,
        )
    counts = []
    for layout, expected_books in ((small, 8), (large, 108)):
        library = NickelLibrary(layout)
        with counted_statements(library) as statements:
            assert len(library.books()) == expected_books
        counts.append(len(statements))
        library.close()
    assert counts[0] == counts[1]
    assert counts[0] <= 7  # BEGIN, table_info, sqlite_master, books, chapters, keys, COMMIT


@contextmanager
def traced_sql(library: NickelLibrary) -> Iterator[list[str]]:
    """Every statement SQLite runs on the library's connections, with its values bound."""
    statements: list[str] = []
    engine = library.engine
    engine.dispose()  # new connections, so that each gets the trace

    def trace(connection: sqlite3.Connection, _record: object) -> None:
        connection.set_trace_callback(statements.append)

    event.listen(engine, "connect", trace)
    try:
        yield statements
    finally:
        event.remove(engine, "connect", trace)
        engine.dispose()


def test_whole_library_reads_never_scan_every_row_of_nickels_content_table(tmp_path: Path) -> None:
    """The ``content`` table holds ~40 chapter and contents rows per book and no ContentType index:
    reading the books (a sync, ``status``) and the daemon's row digests go through BookID's index."""
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    with traced_sql(library) as statements:
        library.books()
        library.row_digests(chapters=False)
        library.row_digests(chapters=True)
    library.close()
    with closing(sqlite3.connect(layout.database)) as database:
        plans = {
            statement: [row[3] for row in database.execute(f"EXPLAIN QUERY PLAN {statement}")]
            for statement in statements
            if statement.lstrip().upper().startswith("SELECT") and " content" in statement
        }
    assert len(plans) >= 4
    for statement, plan in plans.items():
        assert not any(step.split()[:2] == ["SCAN", "content"] for step in plan), (statement, plan)


@pytest.mark.parametrize(
    ("column", "before", "after"),
    [
        ("___PercentRead", -1, -2),
        ("___PercentRead", 12, 12.5),
        ("___PercentRead", None, 0),
        ("Series", None, ""),
        ("Series", "1", "1 "),
    ],
    ids=["-1 to -2", "whole to fraction", "NULL to 0", "NULL to empty", "a space"],
)
def test_a_row_digest_changes_with_any_stored_value(
    tmp_path: Path, column: str, before: object, after: object
) -> None:
    """What the daemon compares to find the book Nickel wrote: no change of a stored value may hide,
    not even where Python hashes two values alike (-1 and -2)."""
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    digests = []
    for value in (before, after):
        with closing(sqlite3.connect(layout.database)) as database, database:
            database.execute(f"UPDATE content SET {column} = ? WHERE ContentID = ?", (value, IDS.komga))
        digests.append(library.row_digests(chapters=True)[IDS.komga])
    library.close()
    assert digests[0] != digests[1]


def test_backup_is_a_verified_copy_that_includes_the_wal(tmp_path: Path) -> None:
    layout = sample_device(tmp_path, journal_mode="wal")
    with closing(sqlite3.connect(layout.database, isolation_level=None)) as nickel:
        nickel.execute("PRAGMA wal_autocheckpoint = 0")
        nickel.execute("UPDATE content SET Title = 'Only in the WAL' WHERE ContentID = ?", (IDS.komga,))
        assert Path(f"{layout.database}-wal").stat().st_size > 0
        library = NickelLibrary(layout, clock=FixedClock(NOON))
        backup = library.backup()
        library.close()
    assert backup == layout.kksync_dir / "backups" / "KoboReader-20250506T120000Z.sqlite"
    alone = tmp_path / "alone.sqlite"
    shutil.copyfile(backup, alone)  # the file by itself, without any -wal beside it
    with closing(sqlite3.connect(alone)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        title = copy.execute("SELECT Title FROM content WHERE ContentID = ?", (IDS.komga,)).fetchone()
    assert title == ("Only in the WAL",)


def test_two_backups_in_one_second_do_not_collide_and_only_ten_are_kept(tmp_path: Path) -> None:
    layout = sample_device(tmp_path)
    clock = FixedClock(NOON)
    library = NickelLibrary(layout, clock=clock)
    first, second = library.backup(), library.backup()
    assert first != second and first.is_file() and second.is_file()
    taken = [first, second]
    for minute in range(1, 12):
        clock.moment = NOON + timedelta(minutes=minute)
        taken.append(library.backup())
    kept = sorted((layout.kksync_dir / "backups").iterdir())
    assert len(kept) == 10
    assert set(kept) == set(taken[-10:])
    library.close()


def test_a_backup_failing_its_integrity_check_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout, clock=FixedClock(NOON))
    monkeypatch.setattr("adapters.kobo.backup.integrity_problem", lambda path: "*** in database main ***")
    with pytest.raises(BackupError, match="integrity check"):
        library.backup()
    assert list((layout.kksync_dir / "backups").iterdir()) == []


def test_a_copy_that_fails_leaves_no_partial_file(tmp_path: Path) -> None:
    closed = sqlite3.connect(":memory:")
    closed.close()  # SQLite has already created the target file when the copy fails
    store = BackupStore(tmp_path / "backups")
    with pytest.raises(BackupError, match="closed database") as raised:
        store.take(closed, NOON)
    assert isinstance(raised.value.__cause__, sqlite3.ProgrammingError)
    assert list(store.folder.iterdir()) == []


def test_a_copy_failing_halfway_is_deleted_with_its_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = sample_device(tmp_path)

    def disk_full(source: sqlite3.Connection, target: Path, patience: object) -> None:
        target.write_bytes(b"SQLite format 3\x00 and then the disk was full")
        target.with_name(target.name + "-journal").write_bytes(b"hot journal")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("adapters.kobo.backup._copy", disk_full)
    with pytest.raises(BackupError, match="database or disk is full"):
        NickelLibrary(layout, clock=FixedClock(NOON)).backup()
    assert list((layout.kksync_dir / "backups").iterdir()) == []


def test_when_the_cleanup_fails_too_the_copy_error_is_the_one_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = sqlite3.connect(":memory:")
    closed.close()
    real_unlink = Path.unlink

    def refuse_partial(path: Path, missing_ok: bool = False) -> None:
        if path.name.endswith(".partial"):
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse_partial)
    with pytest.raises(BackupError, match="closed database"):
        BackupStore(tmp_path / "backups").take(closed, NOON)
    assert "could not delete the unfinished backup" in caplog.text


def test_a_backup_folder_that_cannot_be_made_is_a_backup_error(tmp_path: Path) -> None:
    layout = sample_device(tmp_path)
    layout.kksync_dir.mkdir(parents=True)
    (layout.kksync_dir / "backups").write_text("a file where the folder should be")
    with pytest.raises(BackupError, match="failed"):
        NickelLibrary(layout).backup()
