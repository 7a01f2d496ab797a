"""Settings that never lock anyone out: stray variables warn, a broken config.toml can be repaired
from the command line, and ``config show`` says what is in effect and where it came from."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import file_hashes, json_document, kksync


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kksync: ")]


@pytest.mark.parametrize("command", [["backup"], ["status"], ["config", "show"]])
def test_a_stray_kksync_variable_warns_once_and_the_command_runs(
    main_device: CopyDevice, command: list[str]
) -> None:
    layout = main_device()
    result = kksync(*command, "--device", layout.root, env={"KKSYNC_HOME": "/home/me/.kksync"})
    assert result.returncode == 0, result.stderr
    (warning,) = _errors(result.stderr)
    assert warning.startswith("kksync: warning: ignoring KKSYNC_HOME")


def test_the_demo_runs_with_a_stray_variable(tmp_path: Path) -> None:
    result = kksync("demo", f"{tmp_path}/demo", env={"KKSYNC_HOME": "x"})
    assert result.returncode == 0, result.stderr
    assert sum("KKSYNC_HOME" in line for line in result.stderr.splitlines()) == 1  # once, not per step


BROKEN = 'sync_to_kobo_newer = "prompt"\nbusy_timeout_seconds = \nsync_everything = true\n'


def _broken(main_device: CopyDevice) -> tuple[DeviceLayout, Path]:
    layout = main_device()
    path = layout.kksync_dir / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN, encoding="utf-8")
    return layout, path


def test_a_broken_config_file_is_refused_naming_the_line_and_the_fix(main_device: CopyDevice) -> None:
    layout, path = _broken(main_device)
    before = file_hashes(layout.root, include_backups=True)
    result = kksync("sync", "--device", layout.root)
    assert result.returncode == 1
    (error,) = _errors(result.stderr)
    assert f"{path} line 2" in error and "not valid TOML" in error
    assert "kksync config reset" in error and "1 more problem" in error
    assert file_hashes(layout.root, include_backups=True) == before


def test_config_show_works_on_a_broken_file_and_names_each_bad_line(main_device: CopyDevice) -> None:
    layout, path = _broken(main_device)
    result = kksync("config", "show", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    warnings = _errors(result.stderr)
    assert any(f"{path} line 2" in line for line in warnings)
    assert any(f"{path} line 3" in line and "sync_everything" in line for line in warnings)
    shown = tomllib.loads(result.stdout)
    assert shown["sync_to_kobo_newer"] == "prompt"  # the good line still counts in what is shown


def test_config_set_repairs_a_broken_file_keeping_the_good_settings(main_device: CopyDevice) -> None:
    layout, path = _broken(main_device)
    result = kksync("config", "set", "busy_timeout_seconds", "5", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    assert any("sync_everything" in line for line in _errors(result.stderr))  # dropped, and said so
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "sync_to_kobo_newer": "prompt",
        "busy_timeout_seconds": 5.0,
    }
    assert path.with_name("config.toml.bak").read_text(encoding="utf-8") == BROKEN
    assert kksync("status", "--json", "--device", layout.root).returncode == 0


def test_config_reset_one_key_or_all(main_device: CopyDevice) -> None:
    layout, path = _broken(main_device)
    one = kksync("config", "reset", "sync_to_kobo_newer", "--device", layout.root)
    assert one.returncode == 0, one.stderr
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {}
    assert kksync("config", "set", "sync_to_kobo_older", "prompt", "--device", layout.root).returncode == 0
    every = kksync("config", "reset", "--device", layout.root)
    assert every.returncode == 0, every.stderr
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {}
    assert "sync_to_kobo_older" in path.with_name("config.toml.bak").read_text(encoding="utf-8")
    assert kksync("config", "reset", "nonsense", "--device", layout.root).returncode == 1


def test_config_show_prints_every_effective_value_and_its_source(main_device: CopyDevice) -> None:
    layout = main_device()
    koreader = layout.root / "elsewhere"
    koreader.mkdir()
    result = kksync(
        "config", "show", "--json", "--device", layout.root, "--koreader-dir", koreader,
        "--set", "sync_to_kobo_older=prompt", env={"KKSYNC_BUSY_TIMEOUT_SECONDS": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json_document(result)
    assert shown["file_exists"] is False
    assert shown["settings"]["koreader_dir"] == str(koreader)
    assert shown["sources"] == {
        "sync_reading_state": "default",
        "enable_auto_sync": "default",
        "enable_sync_from_kobo": "default",
        "enable_sync_to_kobo": "default",
        "sync_from_kobo_newer": "default",
        "sync_from_kobo_older": "default",
        "sync_to_kobo_newer": "default",
        "sync_to_kobo_older": "command line",
        "busy_timeout_seconds": "environment, KKSYNC_BUSY_TIMEOUT_SECONDS",
        "koreader_dir": "command line",
        "sync_annotations": "default",
    }
    text = kksync("config", "show", "--device", layout.root).stdout
    assert text.splitlines()[0].endswith(
        "config.toml (does not exist yet: every value is a default or comes from elsewhere)"
    )
    assert tomllib.loads(text)["koreader_dir"] == str(layout.root / ".adds" / "koreader")  # never null


def test_a_missing_koreader_folder_is_warned_about(main_device: CopyDevice) -> None:
    layout = main_device()
    typo = layout.root / ".adds" / "koreadr"
    result = kksync("status", "--json", "--device", layout.root, "--koreader-dir", typo)
    assert result.returncode == 0, result.stderr
    (warning,) = _errors(result.stderr)
    assert warning.startswith("kksync: warning:") and str(typo) in warning and "does not exist" in warning
    stored = kksync("config", "set", "koreader_dir", str(typo), "--device", layout.root)
    assert stored.returncode == 0 and str(typo) in stored.stderr
    fine = kksync(
        "status", "--json", "--device", layout.root, "--koreader-dir", layout.root / ".adds" / "koreader"
    )
    assert fine.stderr == ""
