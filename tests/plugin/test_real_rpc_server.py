"""The plugin against the real kksync RPC server (``kksync rpc --device``), relayed onto a Unix socket.

``kksync rpc`` speaks the same protocol on stdio that the daemon serves on its socket; a small relay
lets the plugin's socket client talk to it unchanged. When ``kksync daemon`` is available the same
checks can point at its socket instead.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.conftest import FIXTURE_DB, REPO, PluginHarness, to_python

SETTING_KEYS = {
    "sync_reading_state",
    "enable_auto_sync",
    "enable_sync_from_kobo",
    "enable_sync_to_kobo",
    "sync_from_kobo_newer",
    "sync_from_kobo_older",
    "sync_to_kobo_newer",
    "sync_to_kobo_older",
}


class StdioRelay:
    """Accepts plugin connections on a Unix socket and forwards each line to one ``kksync rpc`` process."""

    def __init__(self, device_root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli.app", "rpc", "--device", str(device_root)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._dir = Path(tempfile.mkdtemp(prefix="kks-", dir="/tmp"))
        self.socket_path = self._dir / "r.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.socket_path))
        self._server.listen(4)
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()
        info = device_root / ".adds" / "kksync" / "daemon.json"
        info.parent.mkdir(parents=True, exist_ok=True)
        info.write_text(
            json.dumps({"socket": str(self.socket_path), "pid": self.process.pid}), encoding="utf-8"
        )

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection, connection.makefile("rb") as lines:
                for line in lines:
                    with self._lock:
                        assert self.process.stdin is not None and self.process.stdout is not None
                        self.process.stdin.write(line)
                        self.process.stdin.flush()
                        connection.sendall(self.process.stdout.readline())

    def stop(self) -> None:
        self._server.close()
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture
def real_server(harness: PluginHarness) -> Iterator[StdioRelay]:
    database = harness.device_root / ".kobo" / "KoboReader.sqlite"
    database.parent.mkdir(parents=True)
    shutil.copyfile(FIXTURE_DB, database)
    relay = StdioRelay(harness.device_root)
    yield relay
    relay.stop()


def call(harness: PluginHarness, method: str) -> dict[str, Any]:
    daemon = harness.daemon(read_timeout=20)
    out = harness.lua.eval(
        "function(d, m) local r, msg = d:call(m, nil, 20) return { result = r, message = msg } end"
    )(daemon, method)
    assert out.message is None, out.message
    result: dict[str, Any] = to_python(out.result)
    return result


def test_real_server_lists_every_book_of_the_fixture(harness: PluginHarness, real_server: StdioRelay) -> None:
    books = call(harness, "library.list")["books"]
    assert len(books) == 34
    titles = {book["title"] for book in books}
    assert {"The Art of War", "The Seven Principles For Making Marriage Work"} <= titles
    assert all(book["book_id"] and "kobo" in book for book in books)


def test_real_server_settings_are_the_eight_the_menu_shows(
    harness: PluginHarness, real_server: StdioRelay
) -> None:
    settings = call(harness, "settings.get")
    settings = settings.get("settings", settings)
    assert set(settings) >= SETTING_KEYS
