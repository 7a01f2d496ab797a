"""Start-up: ``--help``, ``--version`` and usage errors load none of the heavy libraries.

On a Kobo (1 GHz ARM) every library imported for nothing costs tenths of a second behind a plugin
that waits. Timing is measured by ``make bench``, not asserted; what is asserted here is the cause:
which modules a fresh interpreter has imported when the command is done.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import clean_environment

HEAVY = (
    "sqlalchemy",
    "lxml",
    "lupa",
    "watchdog",
    "dependency_injector",
    "rich",
    "pydantic",
    "adapters.kobo",
    "adapters.koreader",
    "adapters.epub",
    "adapters.ledger",
    "entrypoints.container",
    "importlib.metadata",
)

_PROBE = """
import json, sys
sys.argv = ["kksync", *json.loads(sys.argv[1])]
from entrypoints.cli.app import main
try:
    main()
except SystemExit as done:
    code = done.code
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + " EXIT " + json.dumps(code) + "\\n")
"""


def modules_after(*arguments: str) -> tuple[set[str], int]:
    """Run the command in a fresh interpreter; the modules it imported and its exit code."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(arguments)],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=60,
        check=True,
    )
    tail = result.stderr.rpartition("\nMODULES ")[2]
    modules, _, code = tail.partition(" EXIT ")
    return set(json.loads(modules)), json.loads(code)


@pytest.mark.parametrize(
    ("arguments", "exit_code"),
    [
        (["--help"], 0),
        (["-h"], 0),
        (["--version"], 0),
        (["sync", "--help"], 0),
        (["config", "set", "-h"], 0),
        (["frobnicate"], 1),
        (["sync", "--bogus"], 1),
        (["status", "--device"], 1),
        (["config", "set"], 1),
        (["config", "set", "sync_to_kobo_newer"], 1),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_help_version_and_usage_errors_import_nothing_heavy(arguments: list[str], exit_code: int) -> None:
    modules, code = modules_after(*arguments)
    assert code == exit_code
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == [], f"kksync {' '.join(arguments)} imported {loaded}"


def test_the_probe_sees_heavy_imports_when_a_command_needs_them(main_device: CopyDevice) -> None:
    """The guard above can fail: a command that reads the Kobo does import the container."""
    layout = main_device()
    modules, code = modules_after("backup", "--list", "--device", str(layout.root))
    assert code == 0
    assert {"entrypoints.container", "dependency_injector", "sqlalchemy"} <= modules


@pytest.mark.parametrize("command", [["sync"], ["status"], ["books"]], ids=" ".join)
def test_a_syncing_command_never_loads_the_orm(main_device: CopyDevice, command: list[str]) -> None:
    layout = main_device()
    modules, code = modules_after(*command, "--device", str(layout.root))
    assert code == 0
    assert "sqlalchemy" in modules
    orm = sorted(m for m in modules if m.startswith("sqlalchemy.orm"))
    assert orm == [], f"kksync {' '.join(command)} imported {orm} (~0.1 s and 6 MiB; the ledger is Core)"


def test_a_piped_sync_never_loads_the_progress_bar_or_the_prompts(main_device: CopyDevice) -> None:
    """No terminal, no bar to draw and nobody to ask: Rich's progress and prompt modules (~20 ms
    here, a fifth of a second on a Kobo) stay out of the plugin's and scripts' syncs."""
    layout = main_device()
    modules, code = modules_after("sync", "--json", "--device", str(layout.root))
    assert code == 0
    assert "entrypoints.cli.interaction" in modules
    assert not {"rich.progress", "rich.prompt"} & modules
