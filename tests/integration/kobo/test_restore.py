"""``BackupStore.restore`` on real files: the fw 4.38 database, its backups and a full store."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.kobo.backup import BackupStore, restore_problem
from tests.fixtures import KOBO_FW438_DATABASE

NOON = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def _percent(database: Path) -> list[tuple[str, int]]:
    with closing(sqlite3.connect(database)) as db:
        return db.execute("SELECT ContentID, ___PercentRead FROM content ORDER BY ContentID").fetchall()


def _backup_of(database: Path, store: BackupStore, moment: datetime) -> Path:
    with closing(sqlite3.connect(database)) as source:
        return store.take(source, moment)


def test_the_real_fixture_is_a_nickel_database_and_an_empty_one_is_not(tmp_path: Path) -> None:
    assert restore_problem(KOBO_FW438_DATABASE) is None
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert "not a Kobo database" in (restore_problem(empty) or "")


def test_restoring_the_oldest_of_a_full_store_does_not_prune_it_first(tmp_path: Path) -> None:
    database = tmp_path / "KoboReader.sqlite"
    shutil.copyfile(KOBO_FW438_DATABASE, database)
    store = BackupStore(tmp_path / "backups", keep=2)
    oldest = _backup_of(database, store, NOON)
    original = _percent(database)
    with closing(sqlite3.connect(database)) as db:
        db.execute("UPDATE content SET ___PercentRead = 77")
        db.commit()
    _backup_of(database, store, NOON + timedelta(seconds=1))  # the store is now full
    changed = _percent(database)
    kept = store.restore(oldest, database, NOON + timedelta(seconds=2))  # keeping the current prunes
    assert _percent(database) == original
    assert _percent(kept) == changed
    assert not oldest.exists()  # pruned after it was copied: the restore did not depend on it
    assert not (tmp_path / "KoboReader.sqlite.kksync-restore").exists()


def test_the_current_database_s_wal_is_in_the_copy_kept(tmp_path: Path) -> None:
    database = tmp_path / "KoboReader.sqlite"
    shutil.copyfile(KOBO_FW438_DATABASE, database)
    store = BackupStore(tmp_path / "backups")
    backup = _backup_of(database, store, NOON)
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE content SET ___PercentRead = 42")
    writer.commit()  # committed, still only in the -wal while this connection stays open
    in_wal = _percent(database)
    kept = store.restore(backup, database, NOON + timedelta(seconds=1))
    writer.close()
    assert _percent(kept) == in_wal
    assert _percent(database) == _percent(backup)  # the old connection's checkpoint went elsewhere
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
