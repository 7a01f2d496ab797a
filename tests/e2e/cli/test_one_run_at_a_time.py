"""One ``kksync sync`` at a time per Kobo, sharing the daemon's lock (issue 15, point 6)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    ALICE_ID,
    KKSYNC,
    MAIN_PULLS,
    MAIN_PUSHES,
    by_book,
    clean_environment,
    json_document,
    kksync,
)

HOLD_THE_LOCK = """
import sys
from pathlib import Path
from adapters.device_lock import DeviceLock
from entrypoints.daemon.runtime_dir import device_lock_path
lock = DeviceLock(device_lock_path(Path(sys.argv[1])))
lock.acquire(sys.argv[2])
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def runtime(tmp_path: Path) -> dict[str, str]:
    """A private runtime folder (where the lock lives) shared by every process of one test."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    return {"XDG_RUNTIME_DIR": str(folder)}


class Holder:
    """Another process holding the device's lock until ``release``."""

    def __init__(self, root: Path, role: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_LOCK, str(root), role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=clean_environment(env),
        )
        assert self.process.stdout is not None and self.process.stdout.readline() == "held\n"

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        self.process.communicate("", timeout=30)


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        if holder.process.poll() is None:
            holder.release()


def test_a_second_sync_says_who_syncs_and_does_nothing(
    main_device: CopyDevice, runtime: dict[str, str], holders: list[Holder]
) -> None:
    layout = main_device()
    holder = Holder(layout.root, "sync", runtime)
    holders.append(holder)
    result = kksync("sync", "--device", layout.root, env=runtime)
    assert result.returncode == 1
    assert f"kksync: another kksync is syncing this Kobo (pid {holder.pid})" in result.stderr
    assert "--wait" in result.stderr
    assert not (layout.kksync_dir / "ledger.sqlite").exists()
    for reading in (["status"], ["books"], ["sync", "--dry-run"]):
        assert kksync(*reading, "--device", layout.root, env=runtime).returncode == 0, reading


def test_with_wait_the_second_sync_runs_once_the_first_is_done(
    main_device: CopyDevice, runtime: dict[str, str], holders: list[Holder]
) -> None:
    layout = main_device()
    holder = Holder(layout.root, "sync", runtime)
    holders.append(holder)
    waiting = subprocess.Popen(
        [str(KKSYNC), "sync", "--wait", "--json", "--device", str(layout.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_environment(runtime),
    )
    assert waiting.stderr is not None
    line = waiting.stderr.readline()
    assert f"waiting for the other kksync (pid {holder.pid})" in line
    holder.release()
    stdout, stderr = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, stderr
    books = by_book(json_document(subprocess.CompletedProcess([], 0, stdout, stderr)))
    assert {book_id for book_id, book in books.items() if book["written"]} == {*MAIN_PULLS, *MAIN_PUSHES}


def test_while_the_daemon_holds_the_kobo_sync_says_so(
    main_device: CopyDevice, runtime: dict[str, str], holders: list[Holder]
) -> None:
    layout = main_device()
    holder = Holder(layout.root, "daemon", runtime)
    holders.append(holder)
    for arguments in (["sync"], ["sync", "--wait"]):
        result = kksync(*arguments, "--device", layout.root, env=runtime)
        assert result.returncode == 1
        assert f"kksync: the kksync daemon (pid {holder.pid}) syncs this Kobo by itself" in result.stderr


def test_three_syncs_at_once_push_each_book_once(main_device: CopyDevice, runtime: dict[str, str]) -> None:
    layout = main_device()
    runs = [
        subprocess.Popen(
            [str(KKSYNC), "sync", "--json", "--device", str(layout.root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_environment(runtime),
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    results = [(run.returncode, *output) for run, output in zip(runs, outputs, strict=True)]
    pushes = 0
    for code, stdout, stderr in results:
        if code == 1:
            assert "another kksync is syncing this Kobo" in stderr
            continue
        assert code == 0, stderr
        report = json_document(subprocess.CompletedProcess([], code, stdout, stderr))
        pushes += by_book(report)[ALICE_ID]["written"]
    assert pushes == 1
    assert len(list((layout.kksync_dir / "backups").glob("KoboReader-*.sqlite"))) == 1
