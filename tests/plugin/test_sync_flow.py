"""Sync triggers and the question → ConfirmBox → sync.answer round trip."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.plugin.conftest import PluginHarness
from tests.plugin.rpc_standin import KksyncState, StandInDaemon

PULL_TEXT = (
    "Persuasion\nKobo: 45 % (2026-11-20 14:30 UTC)\nKOReader: 38 % (2026-11-19 21:02 UTC)\n"
    "Sync newer progress from Kobo?"
)


def question(token: str, direction: str, text: str) -> dict[str, Any]:
    return {
        "token": token,
        "book_id": "0RDTATJQNHSQ0",
        "title": "Persuasion",
        "direction": direction,
        "scenario": "NEWER",
        "text": text,
    }


@pytest.fixture
def two_questions(kksync_state: KksyncState) -> KksyncState:
    kksync_state.questions = [
        question("t-pull", "FROM_KOBO", PULL_TEXT),
        question("t-push", "TO_KOBO", "Persuasion\nSync newer progress to Kobo?"),
    ]
    return kksync_state


def sync_now(harness: PluginHarness) -> None:
    plugin = harness.new_plugin()
    plugin.sync.syncNow(plugin.sync)
    harness.settle()


def test_questions_are_asked_one_by_one_and_answered(
    harness: PluginHarness, two_questions: KksyncState, running_daemon: StandInDaemon
) -> None:
    sync_now(harness)
    first = harness.last("ConfirmBox")
    assert first.text == PULL_TEXT
    assert first.ok_text == "Use Kobo's" and first.dismissable is False
    assert "2 book(s) need your decision." in harness.last("InfoMessage").text
    first.ok_callback()
    harness.settle()
    second = harness.last("ConfirmBox")
    assert second.ok_text == "Send to Kobo"
    second.cancel_callback()
    harness.settle()
    assert two_questions.answers == [("t-pull", True), ("t-push", False)]
    assert running_daemon.methods()[-4:] == ["settings.get", "sync.run", "sync.answer", "sync.answer"]


def test_a_stale_answer_is_explained(
    harness: PluginHarness, two_questions: KksyncState, running_daemon: StandInDaemon
) -> None:
    sync_now(harness)
    two_questions.questions = []  # the book changed meanwhile
    harness.last("ConfirmBox").ok_callback()
    harness.settle()
    assert "changed since the question was asked" in harness.last("InfoMessage").text


def test_sync_summary_lists_the_counters(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    sync_now(harness)
    assert harness.last("InfoMessage").text == "Sync with Kobo finished.\npulled: 1\npushed: 0"


def test_sync_now_with_the_master_switch_off(
    harness: PluginHarness, kksync_state: KksyncState, running_daemon: StandInDaemon
) -> None:
    kksync_state.settings["sync_reading_state"] = False
    sync_now(harness)
    assert "switched off" in harness.last("InfoMessage").text
    assert "sync.run" not in running_daemon.methods()


def test_sync_now_without_a_daemon_says_so(harness: PluginHarness) -> None:
    sync_now(harness)
    assert "The kksync daemon is not running" in harness.last("InfoMessage").text


def close_reader(harness: PluginHarness, plugin: Any, path: str) -> Any:
    """ReaderUI closing the book (the plugin is one of its modules), as KOReader's onClose does."""
    reader = harness.ui.ReaderUI.newInstance(path, harness.lua.table_from([plugin]))
    reader.onClose(reader)
    return reader


def test_closing_a_book_syncs_it_after_the_reader_has_closed(
    harness: PluginHarness, two_questions: KksyncState, running_daemon: StandInDaemon
) -> None:
    path = str(harness.device_root / ".kobo/kepub/0RDTATJQNHSQ0")
    plugin = harness.new_plugin(document=path)
    harness.settle()
    running_daemon.requests.clear()
    close_reader(harness, plugin, path)
    assert list(harness.ui.ReaderUI.log.values()) == [f"flushed {path}", "closed"]
    harness.settle()
    assert running_daemon.requests[-1]["method"] == "reader.closed"
    assert running_daemon.requests[-1]["params"] == {"path": path}
    assert harness.last("ConfirmBox").text == PULL_TEXT  # the question reaches the reader


def test_a_book_closed_by_exit_is_still_synced(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    """Exit from the reader: ReaderUI closes on a nextTick and KOReader quits right after,
    dropping every task still queued (ReaderMenu:exitOrRestart, UIManager:quit)."""
    path = str(harness.device_root / ".kobo/kepub/0RDTATJQNHSQ0")
    plugin = harness.new_plugin(document=path)
    harness.settle()
    running_daemon.requests.clear()
    manager = harness.ui.UIManager
    quit_after_close = harness.lua.eval(
        "function(manager, reader) manager:nextTick(function() reader:onClose() manager:quit() end) end"
    )
    quit_after_close(manager, harness.ui.ReaderUI.newInstance(path, harness.lua.table_from([plugin])))
    harness.settle()
    assert manager.exit_code == 0
    deadline = time.monotonic() + 5
    while not running_daemon.methods() and time.monotonic() < deadline:
        time.sleep(0.01)  # the stand-in daemon reads on its own thread
    assert running_daemon.methods() == ["reader.closed"]
    assert running_daemon.requests[0]["params"] == {"path": path}


def test_opening_a_book_tells_the_daemon(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    plugin = harness.new_plugin(document="/mnt/onboard/Books/Emma.epub")
    plugin.onReaderReady(plugin)
    harness.settle()
    assert running_daemon.requests[-1]["method"] == "reader.opened"
    assert running_daemon.requests[-1]["params"] == {"path": "/mnt/onboard/Books/Emma.epub"}


def test_reading_without_a_daemon_stays_quiet(harness: PluginHarness) -> None:
    plugin = harness.new_plugin(document="/mnt/onboard/Books/Emma.epub")
    plugin.onReaderReady(plugin)
    close_reader(harness, plugin, "/mnt/onboard/Books/Emma.epub")
    harness.settle()
    assert harness.shown() == []
    assert any("reader.closed skipped" in line for line in harness.ui.logger.lines.values())
