"""What people expect of a command-line tool: --version, -h, -v/-q, clean help, output for pipes."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest

from application.settings import ALLOWED_VALUES, Settings
from entrypoints.version import VERSION
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    ALICE_ID,
    ODD_ID,
    PRIDE_ID,
    by_book,
    json_document,
    kksync,
    sidecar_of,
)

COMMANDS = [
    [], ["books"], ["status"], ["sync"], ["backup"], ["restore"], ["demo"], ["rpc"], ["daemon"],
    ["config"], ["config", "show"], ["config", "set"], ["config", "reset"],
]  # fmt: skip


def test_version_prints_the_version() -> None:
    result = kksync("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"kksync {VERSION}\n", "")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kksync")
def test_help_has_no_python_type_placeholders_and_no_stray_spaces(command: list[str]) -> None:
    long, short = kksync(*command, "--help"), kksync(*command, "-h")
    assert long.returncode == 0, long.stderr
    assert short.stdout == long.stdout  # -h is --help
    text = long.stdout
    assert not re.search(r"<(bool|str|int|float|path|list\[[a-z]+\])>", text), text
    assert not re.search(r"\s\.(\s|$)", text), text  # no " ." left where a [default] was eaten
    assert not re.search(r"\{[A-Za-z_]+\}", text), text  # required arguments shown as KEY, not {key}


def test_the_root_help_lists_version_verbosity_and_completion() -> None:
    text = kksync("--help").stdout
    for option in ("--version", "-v, --verbose", "-q, --quiet", "--install-completion", "--show-completion"):
        assert option in text


def test_config_set_help_lists_every_setting_and_its_values() -> None:
    text = kksync("config", "set", "--help").stdout
    for key in Settings.names():
        line = next(line for line in text.splitlines() if line.strip().startswith(key + " "))
        assert ALLOWED_VALUES[key] in line
    assert "prompt, silent, never" in text and "true, false" in text


def test_completion_script_is_printed_for_the_shell() -> None:
    result = kksync("--show-completion", env={"SHELL": "/bin/bash"})
    assert result.returncode == 0, result.stderr
    assert "_KKSYNC_COMPLETE" in result.stdout and "complete" in result.stdout


def test_completion_completes_commands() -> None:
    env = {"_KKSYNC_COMPLETE": "complete_bash", "COMP_WORDS": "kksync sy", "COMP_CWORD": "1"}
    result = kksync(env=env)
    assert result.stdout.split() == ["sync"]


def test_verbose_and_quiet_set_the_log_level(main_device: CopyDevice) -> None:
    layout = main_device()
    said = "backed up the Kobo database"
    assert said not in kksync("backup", "--device", layout.root).stderr  # WARNING by default
    assert said in kksync("-v", "backup", "--device", layout.root).stderr
    assert said in kksync("backup", "--device", layout.root, env={"KKSYNC_LOG": "info"}).stderr
    quiet = kksync("-q", "backup", "--device", layout.root, env={"KKSYNC_LOG": "INFO"})
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_an_unknown_log_level_is_named_with_the_valid_ones(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("backup", "--device", layout.root, env={"KKSYNC_LOG": "verbose"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "KKSYNC_LOG" in line]
    assert "'verbose'" in line and "DEBUG, INFO, WARNING, ERROR" in line


LONG_TITLE = "Pride and Prejudice, being the complete and unabridged text of the first edition"


def test_a_table_sent_to_a_pipe_is_not_wrapped_at_80_columns(main_device: CopyDevice) -> None:
    layout = main_device()
    with closing(sqlite3.connect(layout.database)) as db:
        db.execute("UPDATE content SET Title = ? WHERE ContentID = ?", (LONG_TITLE, PRIDE_ID))
        db.commit()
    report = json_document(kksync("status", "--json", "--device", layout.root))
    table = kksync("status", "--device", layout.root).stdout
    xpointers = [book["koreader"]["xpointer"] for book in report["books"] if book["koreader"]["xpointer"]]
    assert xpointers
    for xpointer in xpointers:
        assert xpointer in table  # whole, on one line
    rows = "\n".join(line for line in table.splitlines() if line.startswith("│"))
    for book in report["books"]:
        assert book["title"] in rows  # long titles too: not folded at 40 columns in a pipe
    assert max(map(len, table.splitlines())) > 80


def test_book_errors_go_to_stderr(main_device: CopyDevice) -> None:
    layout = main_device()
    sidecar = sidecar_of(layout, ALICE_ID)
    assert sidecar is not None
    sidecar.write_bytes(b'return { ["summary"] = \n')
    result = kksync("status", "--device", layout.root)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("kksync: error:")]
    assert len(errors) == 1 and str(sidecar) in errors[0]
    assert str(sidecar) not in result.stdout


def test_a_prompt_mark_is_explained_by_a_legend(main_device: CopyDevice) -> None:
    layout = main_device()
    env = {"KKSYNC_SYNC_FROM_KOBO_NEWER": "prompt"}
    table = kksync("sync", "--no-interactive", "--device", layout.root, env=env).stdout
    assert "Kobo → KOReader (newer)?" in table
    assert any(line.startswith("? after a direction:") for line in table.splitlines())
    plain = kksync("status", "--device", layout.root).stdout
    assert "? after a direction" not in plain  # no mark, no legend


def test_nickel_s_own_percent_is_shown_next_to_the_computed_one(main_device: CopyDevice) -> None:
    layout = main_device()
    report = by_book(json_document(kksync("status", "--json", "--device", layout.root)))
    computed = report[ODD_ID]["kobo"]["percent"]
    with_nickel = kksync("status", "--device", layout.root, env={"COLUMNS": "300"}).stdout
    books = kksync("books", "--device", layout.root, env={"COLUMNS": "300"}).stdout
    with closing(sqlite3.connect(layout.database)) as db:
        db.execute("UPDATE content SET ___PercentRead = 90 WHERE ContentID = ?", (ODD_ID,))
        db.commit()
    changed = kksync("status", "--device", layout.root, env={"COLUMNS": "300"}).stdout
    changed_books = kksync("books", "--device", layout.root, env={"COLUMNS": "300"}).stdout
    assert "(Nickel 90 %)" not in with_nickel + books
    assert f"{round(computed, 1):.1f} % reading (Nickel 90 %)" in changed
    assert "(Nickel 90 %)" in changed_books
    assert any(line.startswith("(Nickel N %):") for line in changed.splitlines())


def test_ctrl_d_at_a_prompt_says_no_answer_was_given(main_device: CopyDevice) -> None:
    layout = main_device()
    env = {"KKSYNC_SYNC_FROM_KOBO_NEWER": "prompt"}
    result = kksync("sync", "--interactive", "--book", PRIDE_ID, "--device", layout.root, env=env, stdin="")
    assert result.returncode == 0, result.stderr
    assert "Pride and Prejudice: no answer given" in result.stdout
    assert "run with --interactive" not in result.stdout
