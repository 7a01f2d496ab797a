"""Things that happen to people end in one ``kksync:`` line and the right exit code, never a
traceback (issue 15, point 2)."""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import time
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    KKSYNC,
    PRIDE_ID,
    by_book,
    clean_environment,
    file_hashes,
    kksync,
    sync_json,
)

TRACEBACK = "Traceback (most recent call last)"
PYTHON_STARTING = "Fatal Python error: init_import_site"
KKSYNC_PACKAGES = ("/entrypoints/", "/adapters/", "/application/", "/domain/")


def _before_kksync_ran(returncode: int, stderr: str) -> bool:
    """Whether a SIGINT hit the interpreter's own start-up, before any line of kksync ran.

    Python then reports it itself: a fatal error in ``site``, death by the signal, or a
    ``KeyboardInterrupt`` traceback through the standard library, ``site``'s ``.pth`` files or
    the console script's first import, with no frame in kksync's packages.
    """
    if PYTHON_STARTING in stderr or returncode == -signal.SIGINT:
        return True
    python_traceback = stderr.rstrip().endswith("KeyboardInterrupt") and TRACEBACK in stderr
    return python_traceback and not any(package in stderr for package in KKSYNC_PACKAGES)


def _kksync_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kksync: ")]


# -- a Kobo mounted read-only ------------------------------------------------------------------------


def _read_only_mounts_work(tmp_path: Path) -> bool:
    """Whether this machine lets an unprivileged user namespace bind-mount a folder read-only."""
    if shutil.which("unshare") is None:
        return False
    source, target = tmp_path / "probe-source", tmp_path / "probe-target"
    source.mkdir()
    target.mkdir()
    script = (
        f"mount --bind '{source}' '{target}' && mount -o remount,bind,ro '{target}' && ! touch '{target}/x'"
    )
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, check=False)
    return probe.returncode == 0


def _on_read_only_mount(device: Path, mount: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run kksync with ``device`` bind-mounted read-only at ``mount`` (in a private mount namespace)."""
    mount.mkdir()
    script = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && shift 2 && exec "$@"'
    command = ["unshare", "-rm", "sh", "-c", script, "sh", str(device), str(mount), str(KKSYNC), *arguments]
    return subprocess.run(
        command, capture_output=True, text=True, env=clean_environment(), timeout=120, check=False, input=""
    )


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Path:
    if not _read_only_mounts_work(tmp_path):
        pytest.skip("read-only bind mounts need 'unshare -rm' and user namespaces, not available here")
    return tmp_path / "KOBOeReader"


def test_a_read_only_kobo_gets_one_device_message_and_nothing_is_attempted(
    main_device: CopyDevice, read_only_mount: Path
) -> None:
    layout = main_device()
    before = file_hashes(layout.root, include_backups=True)
    result = _on_read_only_mount(layout.root, read_only_mount, "sync", "--device", str(read_only_mount))
    assert result.returncode == 1, result.stderr
    assert TRACEBACK not in result.stderr
    assert result.stdout == ""  # no report: nothing was attempted, not even the books in sync
    (line,) = _kksync_lines(result.stderr)
    assert "read-only" in line and "nothing was synced" in line and "plug it in again" in line
    assert file_hashes(layout.root, include_backups=True) == before


def test_reading_commands_still_work_on_a_read_only_kobo(
    main_device: CopyDevice, read_only_mount: Path
) -> None:
    layout = main_device()
    result = _on_read_only_mount(
        layout.root, read_only_mount, "sync", "--dry-run", "--device", str(read_only_mount)
    )
    assert result.returncode == 0, result.stderr
    assert "would be pulled" in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [["config", "set", "sync_to_kobo_newer", "prompt"], ["backup"]],
    ids=["config set", "backup"],
)
def test_writing_commands_on_a_read_only_kobo_say_what_to_do(
    main_device: CopyDevice, read_only_mount: Path, arguments: list[str]
) -> None:
    layout = main_device()
    result = _on_read_only_mount(layout.root, read_only_mount, *arguments, "--device", str(read_only_mount))
    assert result.returncode == 1
    assert TRACEBACK not in result.stderr
    (line,) = _kksync_lines(result.stderr)
    assert "Read-only file system" in line and "plug it in again" in line
    assert str(read_only_mount) in line


# -- hostile rows and files -------------------------------------------------------------------------


def _copy_book_row(database: Path, source_id: str, new_id: str) -> None:
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute(
            "CREATE TEMP TABLE copied AS SELECT * FROM content WHERE ContentID = ?", (source_id,)
        )
        connection.execute("UPDATE copied SET ContentID = ?", (new_id,))
        connection.execute("INSERT INTO content SELECT * FROM copied")


@pytest.mark.parametrize("prefix", ["file:///mnt/onboard/", ""], ids=["sideloaded", "store"])
def test_a_contentid_of_thousands_of_characters_is_one_unsyncable_book(
    main_device: CopyDevice, prefix: str
) -> None:
    layout = main_device()
    huge = prefix + "Very Long Name " * 300 + (".kepub.epub" if prefix else "")
    _copy_book_row(layout.database, PRIDE_ID, huge)
    status = kksync("status", "--json", "--device", layout.root)
    assert status.returncode == 0, status.stderr
    report = sync_json(layout.root)
    books = by_book(report)
    assert books[huge]["reason"] == "NOT_SYNCABLE"
    assert any("longer than the file system allows" in note for note in books[huge]["notes"])
    assert books[PRIDE_ID]["written"] is True  # every other book synced
    assert report["summary"]["failed"] == 0


def _garble_chapter(book: Path, chapter_suffix: str) -> str:
    """Put binary garbage (inside an XHTML shell) in one chapter of a book; return its zip path."""
    garbage = random.Random(5).randbytes(5000)  # control characters libxml2's HTML recovery keeps
    with zipfile.ZipFile(book) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    target = next(info.filename for info, _ in entries if info.filename.endswith(chapter_suffix))
    with zipfile.ZipFile(book, "w") as archive:
        for info, data in entries:
            if info.filename == target:
                data = b'<?xml version="1.0"?><html><body><p>' + garbage + b"</p></body></html>"
            archive.writestr(info, data)
    return target


def test_a_chapter_of_binary_garbage_skips_that_book_naming_book_and_file(main_device: CopyDevice) -> None:
    layout = main_device()
    chapter = _garble_chapter(layout.book_host_path(PRIDE_ID), "chapter02.xhtml")
    result = kksync("sync", "--json", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    assert TRACEBACK not in result.stderr
    books = by_book(json.loads(result.stdout))
    pride = books[PRIDE_ID]
    assert pride["reason"] == "NOT_SYNCABLE" and pride["written"] is False
    (note,) = [n for n in pride["notes"] if n.startswith("not syncable: ")]
    assert PRIDE_ID in note and chapter in note
    assert sum(book["written"] for book in books.values()) >= 2  # the others were synced


# -- the environment and the keyboard ------------------------------------------------------------------


def test_an_unknown_log_level_is_named_and_the_command_goes_on(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("status", "--device", layout.root, env={"KKSYNC_LOG": "verbose"})
    assert result.returncode == 0
    assert TRACEBACK not in result.stderr
    (line,) = _kksync_lines(result.stderr)
    assert "verbose" in line and "DEBUG, INFO, WARNING, ERROR" in line
    assert "Status" in result.stdout


def _sync(layout: DeviceLayout) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(KKSYNC), "sync", "--device", str(layout.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_environment(),
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT handled as a terminal's foreground command has it, whatever started the tests.

    A shell starts background jobs (``make test &``, ``nohup … &``) with SIGINT ignored and every
    child inherits that; Python then keeps ignoring it, rightly, and no sync here could be
    interrupted at all.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(main_device: CopyDevice) -> None:
    """SIGINT at moments from start-up (imports) to the middle of the sync; whatever it hits.

    The later moments are fractions of how long a whole sync takes here and now, so a loaded
    machine (where start-up alone can take seconds) still sees syncs interrupted mid-way. The
    sync is timed warm: in a fresh clone the first one also compiles every module's bytecode.
    """
    for _warm_up_then_timed in range(2):
        started = time.perf_counter()
        first = _sync(main_device())
        first.communicate(timeout=120)
        assert first.returncode == 0
        whole = time.perf_counter() - started
    interrupted = 0
    for delay in (0.02, 0.1, 0.25, *(whole * part for part in (0.3, 0.45, 0.6, 0.75, 0.9))):
        layout = main_device()
        process = _sync(layout)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        if _before_kksync_ran(process.returncode, stderr):
            continue  # the signal came before Python ran a line of kksync (its handler not even set)
        assert TRACEBACK not in stderr + stdout, f"after {delay} s: {stderr}"
        if process.returncode == 130:
            interrupted += 1
            expected = ["kksync: interrupted; nothing was left half-written"]
            assert _kksync_lines(stderr) == expected, (delay, stderr)
        else:
            assert process.returncode == 0, stderr  # it had finished before the signal
        leftovers = [p for p in layout.root.rglob("*") if p.name.endswith((".kksync-tmp", ".partial"))]
        assert leftovers == []
    assert interrupted >= 2
