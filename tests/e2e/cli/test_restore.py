"""``kksync restore``: a verified backup back in place, the replaced file kept; ``--list``."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import database_dump, kksync, sync_json


def _backups(layout: DeviceLayout) -> list[Path]:
    return sorted((layout.kksync_dir / "backups").glob("KoboReader-*.sqlite"))


def _one_error(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if line.startswith("kksync: ")]
    return line


def test_restore_puts_the_newest_backup_back_and_keeps_the_replaced_file(main_device: CopyDevice) -> None:
    layout = main_device()
    before = database_dump(layout.database)
    report = sync_json(layout.root)  # backs up, then pushes into the database
    synced = database_dump(layout.database)
    assert report["backup"] and synced != before
    result = kksync("restore", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    assert database_dump(layout.database) == before
    kept = [path for path in _backups(layout) if str(path) != report["backup"]]
    assert len(kept) == 1 and str(kept[0]) in result.stdout
    assert database_dump(kept[0]) == synced  # the replaced database, as it was (undo: restore it)
    assert not list(layout.database.parent.glob("*.kksync-restore"))
    again = kksync("restore", kept[0].name, "--device", layout.root)  # by name: undoes the restore
    assert again.returncode == 0, again.stderr
    assert database_dump(layout.database) == synced


def test_backup_and_restore_list_the_backups(main_device: CopyDevice) -> None:
    layout = main_device()
    empty = kksync("restore", "--list", "--device", layout.root)
    assert empty.returncode == 0 and "No backups yet" in empty.stdout
    assert kksync("backup", "--device", layout.root).returncode == 0
    listing = kksync("backup", "--list", "--device", layout.root)
    assert listing.returncode == 0, listing.stderr
    (name,) = [path.name for path in _backups(layout)]
    assert listing.stdout.splitlines()[0].startswith(name) and listing.stdout.splitlines()[0].endswith("ok")
    assert listing.stdout.splitlines()[-1].startswith("1 backup in ")
    assert kksync("restore", "--list", "--device", layout.root).stdout == listing.stdout


def test_a_damaged_backup_is_refused_and_nothing_changes(main_device: CopyDevice) -> None:
    layout = main_device()
    assert kksync("backup", "--device", layout.root).returncode == 0
    (backup,) = _backups(layout)
    backup.write_bytes(backup.read_bytes()[:8192])  # cut short
    before = layout.database.read_bytes()
    result = kksync("restore", "--device", layout.root)
    assert result.returncode == 1
    message = _one_error(result.stderr)
    assert str(backup) in message and "cannot be restored" in message and "nothing was changed" in message
    assert layout.database.read_bytes() == before
    assert _backups(layout) == [backup]  # no copy of the current file either


def test_a_database_that_is_not_nickel_s_is_refused(main_device: CopyDevice, tmp_path: Path) -> None:
    layout = main_device()
    other = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE content (ContentID TEXT)")
    before = layout.database.read_bytes()
    result = kksync("restore", str(other), "--device", layout.root)
    assert result.returncode == 1
    assert "not a Kobo database" in _one_error(result.stderr)
    assert layout.database.read_bytes() == before


def test_a_corrupt_kobo_database_points_to_restore(main_device: CopyDevice) -> None:
    layout = main_device()
    assert kksync("backup", "--device", layout.root).returncode == 0
    good = database_dump(layout.database)
    layout.database.write_bytes(b"this is not a database " * 500)
    result = kksync("status", "--device", layout.root)
    assert result.returncode == 1
    assert "kksync restore" in _one_error(result.stderr)
    restored = kksync("restore", "--device", layout.root)
    assert restored.returncode == 0, restored.stderr
    assert database_dump(layout.database) == good
    assert any(path.name.endswith(".corrupt.sqlite") for path in (layout.kksync_dir / "backups").iterdir())


def test_an_unknown_backup_name_is_refused(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("restore", "KoboReader-19990101T000000Z.sqlite", "--device", layout.root)
    assert result.returncode == 1
    assert "backup --list" in _one_error(result.stderr)


def test_restore_refuses_while_a_daemon_serves_the_kobo(main_device: CopyDevice) -> None:
    """A daemon announced in daemon.json, alive and answering on its socket, would write into the
    database being replaced (the test stands in for it: this process listens, a child is its pid)."""
    layout = main_device()
    assert kksync("backup", "--device", layout.root).returncode == 0
    folder = Path(tempfile.mkdtemp(prefix="kk"))  # short: Unix socket paths are limited to ~100 bytes
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        listener.bind(str(folder / "rpc.sock"))
        listener.listen()
        announcement = {"pid": stand_in.pid, "socket": str(folder / "rpc.sock")}
        (layout.kksync_dir / "daemon.json").write_text(json.dumps(announcement), encoding="utf-8")
        before = layout.database.read_bytes()
        result = kksync("restore", "--device", layout.root)
        assert result.returncode == 1
        assert f"daemon (pid {stand_in.pid})" in _one_error(result.stderr)
        assert layout.database.read_bytes() == before
    finally:
        stand_in.kill()
        stand_in.wait()
        listener.close()
        shutil.rmtree(folder)
