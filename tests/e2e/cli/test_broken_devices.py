"""Every command against a corpus of broken Kobos: never a traceback (issue 15, point 2).

Each device runs every command of ``tests.support.command_driver`` (books, status, dry run,
sync, config show and set, backup, rpc) in one process. A command may refuse (exit 1 with a
``kksync:`` line) or report failed books (exit 2); it may never let an exception through, log
one with its traceback, or fall into the catch-all "internal error".
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli.broken_devices import BROKEN
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import clean_environment

REPOSITORY = Path(__file__).resolve().parents[3]
SHORT_WAIT = {"KKSYNC_BUSY_TIMEOUT_SECONDS": "1"}


def run_every_command(root: Path, runtime: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.command_driver", str(root)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=clean_environment({**SHORT_WAIT, "XDG_RUNTIME_DIR": str(runtime)}),
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    results: list[dict[str, Any]] = json.loads(result.stdout)
    return results


def check(results: list[dict[str, Any]]) -> None:
    for result in results:
        command = " ".join(result["arguments"][:-2])
        printed = result["stdout"] + result["stderr"]
        assert "Traceback (most recent call last)" not in printed, f"{command}:\n{result['stderr']}"
        assert "internal error" not in printed, f"{command}: {result['stderr']}"
        assert result["code"] in (0, 1, 2), f"{command}: exit {result['code']}: {result['stderr']}"
        if result["code"] == 1 and result["arguments"][0] != "rpc":
            assert any(line.startswith("kksync: ") for line in result["stderr"].splitlines()), command


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_no_command_shows_a_traceback_on_a_broken_kobo(
    main_device: CopyDevice, tmp_path: Path, breakage: str
) -> None:
    layout = main_device()
    BROKEN[breakage](layout)
    check(run_every_command(layout.root, tmp_path))


def test_no_command_shows_a_traceback_on_a_locked_kobo(main_device: CopyDevice, tmp_path: Path) -> None:
    layout = main_device()
    connection = sqlite3.connect(layout.database, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        results = run_every_command(layout.root, tmp_path)
    finally:
        connection.close()
    check(results)
    assert all(r["code"] == 1 for r in results if r["arguments"][0] in ("books", "status", "sync", "backup"))
