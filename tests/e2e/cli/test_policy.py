"""Every policy cell, the direction switches and the master switch, set the ways a person sets them.

The policy device holds one book per cell (from/to Kobo x newer/older). Three rotations give each
cell each of prompt/silent/never while the other cells hold different actions, so a setting read
into the wrong cell shows up as a wrong decision on some book.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    CELLS,
    POLICY_BOOKS,
    Cell,
    by_book,
    content_cells,
    file_hashes,
    json_document,
    kksync,
    ledger_books,
    sidecar_of,
    sync_json,
    write_config,
)

ACTIONS = ("prompt", "silent", "never")
ROTATIONS = [{cell.setting: ACTIONS[(i + r) % 3] for i, cell in enumerate(CELLS)} for r in range(3)]
PULL_CELLS = [cell for cell in CELLS if cell.transfer == "PULL"]
PUSH_CELLS = [cell for cell in CELLS if cell.transfer == "PUSH"]


class DeviceState:
    """What a book looks like on the device: its sidecar bytes and its database cells."""

    def __init__(self, layout: DeviceLayout) -> None:
        self.sidecars = {}
        for book in POLICY_BOOKS:
            path = sidecar_of(layout, book.content_id)
            assert path is not None
            self.sidecars[book.content_id] = path.read_bytes()
        cells = content_cells(layout.database)
        self.rows = {
            book.content_id: {key: value for key, value in cells.items() if key[0] == book.content_id}
            for book in POLICY_BOOKS
        }

    def written(self, other: DeviceState, cell: Cell) -> bool:
        """Whether the side this cell's transfer targets changed for its book."""
        if cell.transfer == "PULL":
            return self.sidecars[cell.book_id] != other.sidecars[cell.book_id]
        return self.rows[cell.book_id] != other.rows[cell.book_id]

    def untouched(self, other: DeviceState, book_id: str) -> bool:
        return self.sidecars[book_id] == other.sidecars[book_id] and self.rows[book_id] == other.rows[book_id]


def check_cells(
    layout: DeviceLayout, report: dict[str, Any], actions: dict[str, str], before: DeviceState
) -> None:
    after, books = DeviceState(layout), by_book(report)
    agreed = ledger_books(layout)
    for cell in CELLS:
        action, book = actions[cell.setting].lower(), books[cell.book_id]
        assert book["scenario"] == cell.scenario, cell
        assert book["error"] is None
        if action == "silent":
            assert (book["decision"], book["reason"], book["written"]) == (cell.transfer, None, True), cell
            assert book["needs_confirmation"] is False and book["question"] is None
            assert before.written(after, cell), cell
            assert cell.book_id in agreed
        elif action == "never":
            assert (book["decision"], book["reason"], book["written"]) == ("SKIP", "POLICY_NEVER", False), (
                cell
            )
            assert before.untouched(after, cell.book_id), cell
            assert cell.book_id not in agreed
        else:
            assert (book["decision"], book["written"], book["needs_confirmation"]) == (
                cell.transfer,
                False,
                True,
            )
            question = book["question"]
            assert question["book_id"] == cell.book_id and question["token"]
            assert question["scenario"] == cell.scenario
            assert question["text"].endswith("?")
            assert before.untouched(after, cell.book_id), cell
            assert cell.book_id not in agreed


def test_each_cell_follows_kksync_config_set(policy_device: CopyDevice) -> None:
    layout = policy_device()
    actions = {setting: action.capitalize() for setting, action in ROTATIONS[0].items()}  # any case
    for setting, action in actions.items():
        result = kksync("config", "set", setting, action, "--device", layout.root)
        assert result.returncode == 0, result.stderr
        assert f'{setting} = "{action.lower()}"' in result.stdout
    before = DeviceState(layout)
    check_cells(layout, sync_json(layout.root), actions, before)


@pytest.mark.parametrize("actions", ROTATIONS[1:], ids=["rotation1", "rotation2"])
def test_each_cell_follows_a_hand_written_config_toml(
    policy_device: CopyDevice, actions: dict[str, str]
) -> None:
    layout = policy_device()
    write_config(layout, actions)
    before = DeviceState(layout)
    check_cells(layout, sync_json(layout.root), actions, before)


@pytest.mark.parametrize("rotation", range(3), ids=["rotation0", "rotation1", "rotation2"])
def test_each_cell_follows_kksync_variables_over_the_file(policy_device: CopyDevice, rotation: int) -> None:
    layout = policy_device()
    write_config(layout, ROTATIONS[(rotation + 1) % 3])  # the environment must win over the file
    actions = ROTATIONS[rotation]
    env = {f"KKSYNC_{setting.upper()}": action.upper() for setting, action in actions.items()}
    before = DeviceState(layout)
    check_cells(layout, sync_json(layout.root, env=env), actions, before)
    # Unanswered prompts and refused cells come back the same, and nothing is written again.
    hashes = file_hashes(layout.root)
    again = sync_json(layout.root, env=env)
    assert file_hashes(layout.root) == hashes
    assert not any(book["written"] for book in again["books"])


def test_each_cell_follows_set_options_over_variables_and_the_file(policy_device: CopyDevice) -> None:
    layout = policy_device()
    write_config(layout, ROTATIONS[1])
    env = {f"KKSYNC_{setting.upper()}": action for setting, action in ROTATIONS[2].items()}
    actions = ROTATIONS[0]  # the command line must win over both
    options = [f"--set={setting}={action}" for setting, action in actions.items()]
    before = DeviceState(layout)
    check_cells(layout, sync_json(layout.root, *options, env=env), actions, before)
    shown = kksync("config", "show", "--json", "--device", layout.root, *options, env=env)
    assert shown.returncode == 0, shown.stderr
    settings = json_document(shown)["settings"]
    assert {key: value for key, value in settings.items() if key in actions} == actions


def test_switching_off_pulls_in_config_toml_leaves_pushes_working(policy_device: CopyDevice) -> None:
    layout = policy_device()
    assert kksync("config", "set", "enable_sync_from_kobo", "false", "--device", layout.root).returncode == 0
    before = DeviceState(layout)
    books = by_book(sync_json(layout.root))
    after = DeviceState(layout)
    for cell in PULL_CELLS:
        assert (books[cell.book_id]["decision"], books[cell.book_id]["reason"]) == (
            "SKIP",
            "DIRECTION_DISABLED",
        )
        assert before.untouched(after, cell.book_id)
    newer, older = PUSH_CELLS
    assert (books[newer.book_id]["decision"], books[newer.book_id]["written"]) == ("PUSH", True)
    assert books[older.book_id]["reason"] == "POLICY_NEVER"  # the default for older progress


def test_switching_off_pushes_in_the_environment_leaves_pulls_working(policy_device: CopyDevice) -> None:
    layout = policy_device()
    before = DeviceState(layout)
    books = by_book(sync_json(layout.root, env={"KKSYNC_ENABLE_SYNC_TO_KOBO": "false"}))
    after = DeviceState(layout)
    for cell in PUSH_CELLS:
        assert (books[cell.book_id]["decision"], books[cell.book_id]["reason"]) == (
            "SKIP",
            "DIRECTION_DISABLED",
        )
        assert before.untouched(after, cell.book_id)
    newer, older = PULL_CELLS
    assert (books[newer.book_id]["decision"], books[newer.book_id]["written"]) == ("PULL", True)
    assert books[older.book_id]["reason"] == "POLICY_NEVER"


@pytest.mark.parametrize("where", ["config set", "environment"])
def test_the_master_switch_skips_every_book_and_writes_nothing(policy_device: CopyDevice, where: str) -> None:
    layout = policy_device()
    env = {}
    if where == "config set":
        assert kksync("config", "set", "sync_reading_state", "off", "--device", layout.root).returncode == 0
    else:
        env = {"KKSYNC_SYNC_READING_STATE": "false"}
    hashes = file_hashes(layout.root, include_backups=True)
    report = sync_json(layout.root, env=env)
    assert {(b["decision"], b["reason"], b["written"]) for b in report["books"]} == {
        ("SKIP", "DISABLED", False)
    }
    assert report["summary"]["skipped"] == len(POLICY_BOOKS)
    assert file_hashes(layout.root, include_backups=True) == hashes
