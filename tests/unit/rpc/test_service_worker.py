"""One service call at a time, on one thread; callers that wait too long are told the worker is busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from entrypoints.daemon.service_worker import ServiceWorker, WorkerBusy, WorkerStopped


@pytest.fixture
def worker() -> Iterator[ServiceWorker]:
    running = ServiceWorker(busy_timeout=0.3)
    yield running
    running.stop()


def test_every_call_runs_on_the_same_thread(worker: ServiceWorker) -> None:
    names = {worker.call(lambda: threading.current_thread().name) for _ in range(5)}
    callers = [
        threading.Thread(target=lambda: names.add(worker.call(lambda: threading.current_thread().name)))
    ]
    for caller in callers:
        caller.start()
        caller.join()
    assert len(names) == 1
    assert names != {threading.current_thread().name}


def test_results_and_errors_come_back_to_the_caller(worker: ServiceWorker) -> None:
    assert worker.call(lambda: 6 * 7) == 42

    def broken() -> None:
        raise KeyError("book")

    with pytest.raises(KeyError):
        worker.call(broken)


def test_calls_never_overlap(worker: ServiceWorker) -> None:
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.01)
        with guard:
            inside -= 1

    threads = [threading.Thread(target=worker.call, args=(work, 5.0)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_a_caller_waiting_past_the_timeout_is_told_busy(worker: ServiceWorker) -> None:
    started = threading.Event()
    release = threading.Event()

    def long_sync() -> str:
        started.set()
        release.wait(5)
        return "done"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(worker.call(long_sync)))
    first.start()
    started.wait(5)
    begun = time.monotonic()
    with pytest.raises(WorkerBusy, match="another sync is running"):
        worker.call(lambda: "second")
    assert 0.25 <= time.monotonic() - begun < 2
    release.set()
    first.join()
    assert results == ["done"]
    assert worker.call(lambda: "after") == "after"


def test_a_stopped_worker_refuses_new_calls() -> None:
    worker = ServiceWorker()
    worker.stop()
    with pytest.raises(WorkerStopped):
        worker.call(lambda: 1)


def test_stop_lets_the_running_call_finish() -> None:
    worker = ServiceWorker()
    started = threading.Event()
    finished: list[bool] = []

    def work() -> None:
        started.set()
        time.sleep(0.2)
        finished.append(True)

    caller = threading.Thread(target=worker.call, args=(work,))
    caller.start()
    started.wait(5)
    worker.stop()
    assert finished == [True]
    caller.join()


def test_tidying_after_a_call_never_delays_its_answer_and_runs_on_the_worker() -> None:
    """The daemon gives freed memory back after every call; the caller has its answer first."""
    answered = threading.Event()
    tidied: list[tuple[bool, str]] = []

    def tidy() -> None:
        time.sleep(0.3)
        tidied.append((answered.is_set(), threading.current_thread().name))

    worker = ServiceWorker(after_work=tidy)
    begun = time.monotonic()
    assert worker.call(lambda: threading.current_thread().name).startswith("kksync-service")
    answered.set()
    assert time.monotonic() - begun < 0.25  # not held up by the tidying
    worker.stop()  # lets the queued tidying finish
    assert len(tidied) == 1
    after_answer, thread = tidied[0]
    assert after_answer and thread.startswith("kksync-service")


def test_a_failing_tidy_is_logged_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("cannot tidy")

    worker = ServiceWorker(after_work=broken)
    assert worker.call(lambda: 1) == 1
    assert worker.call(lambda: 2) == 2
    worker.stop()
    assert "tidying up after a call failed" in caplog.text
