"""Sync triggers and the question → ConfirmBox → sync.answer round trip."""

from __future__ import annotations

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


def sync_now(harness: PluginHarness) -> Any:
    plugin = harness.new_plugin()
    return plugin.sync.syncNow(plugin.sync)


def test_questions_are_asked_one_by_one_and_answered(
    harness: PluginHarness, two_questions: KksyncState, running_daemon: StandInDaemon
) -> None:
    assert sync_now(harness) is True
    first = harness.last("ConfirmBox")
    assert first.text == PULL_TEXT
    assert first.ok_text == "Use Kobo's" and first.dismissable is False
    assert "2 book(s) need your decision." in harness.last("InfoMessage").text
    first.ok_callback()
    second = harness.last("ConfirmBox")
    assert second.ok_text == "Send to Kobo"
    second.cancel_callback()
    assert two_questions.answers == [("t-pull", True), ("t-push", False)]
    assert running_daemon.methods() == ["settings.get", "sync.run", "sync.answer", "sync.answer"]


def test_a_stale_answer_is_explained(
    harness: PluginHarness, two_questions: KksyncState, running_daemon: StandInDaemon
) -> None:
    sync_now(harness)
    two_questions.questions = []  # the book changed meanwhile
    harness.last("ConfirmBox").ok_callback()
    assert "changed since the question was asked" in harness.last("InfoMessage").text


def test_sync_summary_lists_the_counters(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    sync_now(harness)
    assert harness.last("InfoMessage").text == "Sync with Kobo finished.\npulled: 1\npushed: 0"


def test_sync_now_with_the_master_switch_off(
    harness: PluginHarness, kksync_state: KksyncState, running_daemon: StandInDaemon
) -> None:
    kksync_state.settings["sync_reading_state"] = False
    assert sync_now(harness) is False
    assert "switched off" in harness.last("InfoMessage").text
    assert "sync.run" not in running_daemon.methods()


def test_sync_now_without_a_daemon_says_so(harness: PluginHarness) -> None:
    assert sync_now(harness) is False
    assert "The kksync daemon is not running" in harness.last("InfoMessage").text


def test_closing_a_book_syncs_it_after_the_reader_has_closed(
    harness: PluginHarness, two_questions: KksyncState, running_daemon: StandInDaemon
) -> None:
    path = str(harness.device_root / ".kobo/kepub/0RDTATJQNHSQ0")
    plugin = harness.new_plugin(document=path)
    plugin.onCloseDocument(plugin)
    assert running_daemon.requests == []  # nothing while ReaderUI is still closing
    harness.ui.UIManager.runTicks(harness.ui.UIManager)
    assert running_daemon.requests[-1]["method"] == "reader.closed"
    assert running_daemon.requests[-1]["params"] == {"path": path}
    assert harness.last("ConfirmBox").text == PULL_TEXT


def test_opening_a_book_tells_the_daemon(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    plugin = harness.new_plugin(document="/mnt/onboard/Books/Emma.epub")
    plugin.onReaderReady(plugin)
    harness.ui.UIManager.runTicks(harness.ui.UIManager)
    assert running_daemon.requests[-1]["method"] == "reader.opened"
    assert running_daemon.requests[-1]["params"] == {"path": "/mnt/onboard/Books/Emma.epub"}


def test_reading_without_a_daemon_stays_quiet(harness: PluginHarness) -> None:
    plugin = harness.new_plugin(document="/mnt/onboard/Books/Emma.epub")
    plugin.onReaderReady(plugin)
    plugin.onCloseDocument(plugin)
    harness.ui.UIManager.runTicks(harness.ui.UIManager)
    assert harness.shown() == []
    assert any("reader.closed skipped" in line for line in harness.ui.logger.lines.values())
