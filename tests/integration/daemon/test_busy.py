"""While one sync holds the service, other calls wait, then fail with ``busy``; ``status`` never waits."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from entrypoints.daemon.rpc import build_dispatcher
from entrypoints.daemon.rpc_methods import VIRTUAL_PREFIX
from entrypoints.daemon.service_host import ServiceHost
from entrypoints.daemon.service_worker import ServiceWorker
from entrypoints.demo.run import build_demo_device

Call = Callable[..., dict[str, Any]]
"""One JSON-RPC call through the daemon's dispatcher: method, optional params -> decoded answer."""


@pytest.fixture
def demo_device(tmp_path: Path) -> Path:
    device = tmp_path / "dev"
    build_demo_device(device)
    return device


@pytest.fixture
def worker() -> Iterator[ServiceWorker]:
    worker = ServiceWorker(busy_timeout=0.3)
    yield worker
    worker.stop()


@pytest.fixture
def call(demo_device: Path, worker: ServiceWorker) -> Call:
    dispatcher, _methods = build_dispatcher(ServiceHost(demo_device, None, worker))

    def call(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        raw = dispatcher.handle(json.dumps(request).encode())
        assert raw is not None
        return dict(json.loads(raw))

    return call


@contextmanager
def held(worker: ServiceWorker) -> Iterator[None]:
    """A long sync holds the worker until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def long_sync() -> None:
        holding.set()
        release.wait(10)

    blocker = threading.Thread(target=worker.call, args=(long_sync,))
    blocker.start()
    holding.wait(5)
    try:
        yield
    finally:
        release.set()
        blocker.join(5)


def test_a_call_behind_a_long_sync_is_told_busy_and_status_still_answers(
    demo_device: Path, worker: ServiceWorker, call: Call
) -> None:
    with held(worker):
        busy = call("sync.run")
        assert busy["error"] == {
            "code": -32000,
            "message": "sync.run: another sync is running; tried for 0.3 s",
            "data": {"kind": "busy"},
        }
        assert call("status")["result"]["device"] == str(demo_device)
        assert "result" in call("settings.get")
    assert call("sync.run")["result"]["summary"]["books"] == 5


def test_a_book_closed_while_the_service_is_busy_is_no_longer_open(worker: ServiceWorker, call: Call) -> None:
    """reader.closed syncs the book on the worker; when it cannot get a turn it answers busy, and
    the book must not stay marked open (it would be left alone by every later change)."""
    book_id = call("library.list")["result"]["books"][0]["book_id"]
    book_path = f"{VIRTUAL_PREFIX}{book_id}/book"
    assert call("reader.opened", {"path": book_path})["result"]["open_books"] == [book_id]
    with held(worker):
        assert call("reader.closed", {"path": book_path})["error"]["data"] == {"kind": "busy"}
        assert call("status")["result"]["open_books"] == []
