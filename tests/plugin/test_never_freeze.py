"""No RPC may hold KOReader's only thread for more than ~100 ms, however slow the daemon answers.

The stand-in daemon here takes its time (a full sync, a long library list); the test drives
KOReader's task queue step by step and times every step, and every entry point the reader
touches (Sync now, the library, closing a book, answering a question).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.plugin.conftest import PluginHarness
from tests.plugin.rpc_standin import KksyncState, StandInDaemon

BUDGET = 0.1
QUESTION = {
    "token": "t-1",
    "book_id": "0RDTATJQNHSQ0",
    "title": "Persuasion",
    "direction": "FROM_KOBO",
    "scenario": "NEWER",
    "text": "Persuasion\nSync newer progress from Kobo?",
}


def slowly(seconds: float, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def slow(params: Any) -> Any:
        time.sleep(seconds)
        return handler(params)

    return slow


@pytest.fixture
def slow_daemon(harness: PluginHarness, kksync_state: KksyncState) -> Any:
    kksync_state.questions = [dict(QUESTION)]
    handlers = kksync_state.handlers()
    for method, seconds in {
        "sync.run": 1.5,
        "library.list": 0.8,
        "reader.closed": 0.6,
        "sync.answer": 0.5,
    }.items():
        handlers[method] = slowly(seconds, handlers[method])
    daemon = StandInDaemon(harness.device_root, handlers).start()
    yield daemon
    daemon.stop()


def timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def test_no_step_blocks_the_ui_while_a_slow_daemon_works(
    harness: PluginHarness, slow_daemon: StandInDaemon
) -> None:
    manager = harness.ui.UIManager
    plugin = harness.new_plugin()
    entry_points = {"start": 0.0}
    harness.settle()

    entry_points["sync now"] = timed(lambda: plugin.sync.syncNow(plugin.sync))
    assert harness.last("InfoMessage") is None or "Syncing" not in str(harness.last("InfoMessage").text)
    harness.settle()
    box = harness.last("ConfirmBox")
    assert box is not None and "Persuasion" in str(box.text)  # the question reached the reader
    entry_points["answer"] = timed(box.ok_callback)
    harness.settle()

    entry_points["library"] = timed(lambda: plugin.showLibrary(plugin))
    assert "Loading" in str(harness.last("InfoMessage").text)  # progress while the daemon answers
    harness.settle()
    assert harness.last("Menu") is not None

    path = str(harness.device_root / ".kobo/kepub/0RDTATJQNHSQ0")
    reader = harness.ui.ReaderUI.newInstance(path, harness.lua.table_from([plugin]))
    entry_points["close book"] = timed(lambda: reader.onClose(reader))
    harness.settle()
    assert "reader.closed" in slow_daemon.methods()

    slowest = {name: seconds for name, seconds in entry_points.items() if seconds > BUDGET}
    assert slowest == {}, f"entry points held the UI: {slowest}"
    steps = list(manager.task_seconds.values())
    assert len(steps) > 10  # the answers were awaited in many short steps
    assert max(steps) <= BUDGET, f"a UI task took {max(steps):.3f} s"
