"""SIGTERM/SIGINT reach the daemon through a relay thread, never as work inside the signal handler.

Setting a ``threading.Event`` from a Python signal handler can deadlock the main thread when the
signal lands while that thread holds the event's lock (inside ``Event.wait``): the daemon then
never stops, and KOReader's USB export waits for a process that keeps the partition busy.
"""

from __future__ import annotations

import os
import signal
import threading

from entrypoints.daemon.lifecycle import stop_on_signals


def test_a_stop_signal_is_relayed_to_another_thread_with_its_name() -> None:
    calls: list[tuple[str, bool]] = []
    relayed = threading.Event()

    def on_stop(reason: str) -> None:
        calls.append((reason, threading.current_thread() is threading.main_thread()))
        relayed.set()

    with stop_on_signals(on_stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert relayed.wait(5)
    assert calls == [("received SIGTERM", False)]


def test_the_previous_handlers_come_back_afterwards() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_on_signals(lambda _reason: None):
        assert signal.getsignal(signal.SIGTERM) is not before[1]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
