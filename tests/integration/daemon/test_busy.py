"""While one sync holds the service, other calls wait, then fail with ``busy``; ``status`` never waits."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from entrypoints.daemon.rpc import build_dispatcher
from entrypoints.daemon.service_host import ServiceHost
from entrypoints.daemon.service_worker import ServiceWorker
from entrypoints.demo.run import build_demo_device


def test_a_call_behind_a_long_sync_is_told_busy_and_status_still_answers(tmp_path: Path) -> None:
    device = tmp_path / "dev"
    build_demo_device(device)
    worker = ServiceWorker(busy_timeout=0.3)
    try:
        host = ServiceHost(device, None, worker)
        dispatcher, _methods = build_dispatcher(host)
        holding, release = threading.Event(), threading.Event()

        def long_sync() -> None:
            holding.set()
            release.wait(10)

        blocker = threading.Thread(target=worker.call, args=(long_sync,))
        blocker.start()
        holding.wait(5)

        def call(method: str) -> dict[str, Any]:  # decoded JSON
            raw = dispatcher.handle(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method}).encode())
            assert raw is not None
            return dict(json.loads(raw))

        busy = call("sync.run")
        assert busy["error"] == {
            "code": -32000,
            "message": "sync.run: another sync is running; tried for 0.3 s",
            "data": {"kind": "busy"},
        }
        assert call("status")["result"]["device"] == str(device)
        assert "result" in call("settings.get")
        release.set()
        blocker.join(5)
        assert call("sync.run")["result"]["summary"]["books"] == 5
    finally:
        worker.stop()


def test_a_book_closed_while_the_service_is_busy_is_no_longer_open(tmp_path: Path) -> None:
    """reader.closed syncs the book on the worker; when it cannot get a turn it answers busy, and
    the book must not stay marked open (it would be left alone by every later change)."""
    device = tmp_path / "dev"
    build_demo_device(device)
    worker = ServiceWorker(busy_timeout=0.3)
    try:
        host = ServiceHost(device, None, worker)
        dispatcher, _methods = build_dispatcher(host)

        def call(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:  # decoded JSON
            request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
            raw = dispatcher.handle(json.dumps(request).encode())
            assert raw is not None
            return dict(json.loads(raw))

        book = call("library.list")["result"]["books"][0]
        book_path = f"KOBO_VIRTUAL://{book['book_id']}/book"
        assert call("reader.opened", {"path": book_path})["result"]["open_books"] == [book["book_id"]]
        holding, release = threading.Event(), threading.Event()

        def long_sync() -> None:
            holding.set()
            release.wait(10)

        blocker = threading.Thread(target=worker.call, args=(long_sync,))
        blocker.start()
        holding.wait(5)
        assert call("reader.closed", {"path": book_path})["error"]["data"] == {"kind": "busy"}
        assert call("status")["result"]["open_books"] == []
        release.set()
        blocker.join(5)
    finally:
        worker.stop()
