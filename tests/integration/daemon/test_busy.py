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
