"""Exit codes and error messages: 0 done, 1 nothing was synced (usage, settings, device), 2 a book failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    ALICE_ID,
    ART_OF_WAR_ID,
    MAIN_PULLS,
    by_book,
    content_rows,
    file_hashes,
    kksync,
    sidecar_of,
    sync_json,
    write_config,
)


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("kksync: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_folder_that_is_not_a_kobo_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "a rather long folder name, so that a wrapped message would show" / "not a kobo"
    folder.mkdir(parents=True)
    result = kksync("sync", "--json", "--device", folder)
    assert result.returncode == 1
    assert result.stdout == ""
    message = _one_line_error(result.stderr)
    assert str(folder) in message and "not a Kobo" in message
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"sync_to_kobo_newest": "silent"}, ["sync_to_kobo_newest", "unknown setting", "sync_to_kobo_newer"]),
        ({"sync_to_kobo_newer": "sometimes"}, ["sync_to_kobo_newer", "sometimes", "prompt, silent, never"]),
        ({"enable_sync_to_kobo": "maybe"}, ["enable_sync_to_kobo", "maybe", "true, false"]),
    ],
    ids=["unknown setting", "bad action", "bad switch"],
)
def test_a_bad_config_toml_stops_before_anything_is_synced(
    main_device: CopyDevice, config: dict[str, str], named: list[str]
) -> None:
    layout = main_device()
    write_config(layout, config)
    before = file_hashes(layout.root, include_backups=True)
    result = kksync("sync", "--json", "--device", layout.root)
    assert result.returncode == 1
    assert result.stdout == ""
    message = _one_line_error(result.stderr)
    assert str(layout.kksync_dir / "config.toml") in message
    for word in named:
        assert word in message
    assert file_hashes(layout.root, include_backups=True) == before


def test_a_bad_environment_variable_is_named(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync(
        "status", "--json", "--device", layout.root, env={"KKSYNC_SYNC_FROM_KOBO_OLDER": "always"}
    )
    assert result.returncode == 1
    message = _one_line_error(result.stderr)
    assert "sync_from_kobo_older" in message and "always" in message and "prompt, silent, never" in message


def test_a_misspelt_environment_variable_is_named_not_ignored(main_device: CopyDevice) -> None:
    """Named once, with the closest real name; it does not stop the command (a stray variable
    left by some script must not lock anyone out)."""
    layout = main_device()
    result = kksync("status", "--device", layout.root, env={"KKSYNC_SYNC_TO_KOBO_NEWR": "prompt"})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "KKSYNC_SYNC_TO_KOBO_NEWR" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("kksync: warning:") and "KKSYNC_SYNC_TO_KOBO_NEWER" in warnings[0]


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("sync_to_kobo_newr=silent", ["sync_to_kobo_newr", "silent", "sync_to_kobo_newer"]),
        ("busy_timeout_seconds=soon", ["busy_timeout_seconds", "soon", "0 to 600"]),
        ("sync_to_kobo_newer", ["KEY=VALUE"]),
    ],
    ids=["unknown setting", "bad seconds", "no equals sign"],
)
def test_a_bad_set_option_is_named(main_device: CopyDevice, option: str, named: list[str]) -> None:
    layout = main_device()
    before = file_hashes(layout.root, include_backups=True)
    result = kksync("sync", "--device", layout.root, "--set", option)
    assert result.returncode == 1
    message = _one_line_error(result.stderr)
    for word in named:
        assert word in message
    assert file_hashes(layout.root, include_backups=True) == before


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["sync", "--bogus"], "No such option: --bogus"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["config", "set"], "Missing argument"),
        (["status", "--device"], "requires an argument"),
    ],
    ids=["unknown option", "unknown command", "missing argument", "option without value"],
)
def test_usage_mistakes_get_one_error_line_not_a_traceback(arguments: list[str], reason: str) -> None:
    result = kksync(*arguments)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and reason in last


def test_the_command_runs_without_the_separate_click_package() -> None:
    """Typer bundles its own click; a user's install has no ``click`` (only our dev tools pull it in)."""
    script = (
        "import sys; sys.modules['click'] = None; sys.argv = ['kksync', 'sync', '--help']\n"
        "from entrypoints.cli.app import main; main()"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "--dry-run" in result.stdout


def test_yes_and_interactive_together_are_refused(main_device: CopyDevice) -> None:
    layout = main_device()
    before = file_hashes(layout.root, include_backups=True)
    result = kksync("sync", "--yes", "--interactive", "--device", layout.root)
    assert result.returncode == 1
    assert "--yes and --interactive" in _one_line_error(result.stderr)
    assert file_hashes(layout.root, include_backups=True) == before


def test_an_unknown_book_is_refused(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("sync", "--book", "no-such-book", "--device", layout.root)
    assert result.returncode == 1
    assert "no-such-book" in _one_line_error(result.stderr)


def test_a_corrupt_sidecar_fails_its_book_only(main_device: CopyDevice) -> None:
    layout = main_device()
    sidecar = sidecar_of(layout, ALICE_ID)
    assert sidecar is not None
    sidecar.write_bytes(b'return { ["summary"] = \n')  # cut off mid-write
    rows_before = content_rows(layout.database)
    report = sync_json(layout.root, expect=2)
    alice = by_book(report)[ALICE_ID]
    assert alice["written"] is False
    assert "\n" not in alice["error"]
    assert ALICE_ID in alice["error"] and str(sidecar) in alice["error"]
    assert report["summary"]["failed"] == 1
    assert content_rows(layout.database)[ALICE_ID] == rows_before[ALICE_ID]
    assert sidecar.read_bytes() == b'return { ["summary"] = \n'  # KOReader decides what to do with it
    others = by_book(report)
    assert all(others[book_id]["written"] for book_id in (*MAIN_PULLS, ART_OF_WAR_ID))
    assert content_rows(layout.database)[ART_OF_WAR_ID] != rows_before[ART_OF_WAR_ID]
