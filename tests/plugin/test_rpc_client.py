"""The plugin's RPC client against a stand-in daemon that follows docs/rpc.md, and when none runs."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tests.plugin.conftest import PluginHarness, to_python
from tests.plugin.rpc_standin import KksyncState, StandInDaemon


def call(
    harness: PluginHarness, method: str, params: dict[str, Any] | None = None, **daemon_opts: object
) -> tuple[Any, Any, Any]:
    daemon = harness.daemon(**daemon_opts)
    lua_params = harness.bridges.to_lua(params) if params is not None else None
    out = harness.lua.eval(
        "function(d, m, p) local r, msg, e = d:call(m, p) return { result = r, message = msg, err = e } end"
    )(daemon, method, lua_params)
    return to_python(out.result), out.message, to_python(out.err)


def test_library_list_comes_back_as_lua_tables(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    result, message, _ = call(harness, "library.list")
    assert message is None
    titles = [book["title"] for book in result["books"]]
    assert titles[:3] == ["Persuasion", "emma", "Mansfield Park"]
    persuasion = result["books"][0]
    assert persuasion["kobo"]["percent"] == 45.0
    assert "series" not in persuasion  # JSON null is nil in Lua
    assert running_daemon.requests[-1] == {"jsonrpc": "2.0", "id": 1, "method": "library.list"}


def test_params_are_sent_as_a_json_object(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    result, _, _ = call(harness, "settings.set", {"sync_from_kobo_newer": "prompt"})
    assert result["settings"]["sync_from_kobo_newer"] == "prompt"
    assert running_daemon.requests[-1]["params"] == {"sync_from_kobo_newer": "prompt"}


def test_no_daemon_file_means_not_running(harness: PluginHarness) -> None:
    result, message, err = call(harness, "status")
    assert result is None
    assert "not running" in message
    assert str(harness.device_root / ".adds" / "kksync" / "daemon.json") in message
    assert err is None


def test_a_stale_daemon_file_says_the_daemon_does_not_answer(harness: PluginHarness) -> None:
    info = harness.device_root / ".adds" / "kksync" / "daemon.json"
    info.parent.mkdir(parents=True)
    info.write_text(json.dumps({"socket": "/tmp/kksync-gone.sock", "pid": 99}), encoding="utf-8")
    result, message, err = call(harness, "status")
    assert result is None
    assert "not running" in message and "/tmp/kksync-gone.sock" in message and "kksync daemon" in message
    assert err["kind"] == "unreachable"


def test_an_unreadable_daemon_file_is_reported(harness: PluginHarness) -> None:
    info = harness.device_root / ".adds" / "kksync" / "daemon.json"
    info.parent.mkdir(parents=True)
    info.write_text("{not json", encoding="utf-8")
    _, message, _ = call(harness, "status")
    assert "unreadable" in message and str(info) in message


def test_rpc_errors_keep_code_message_and_kind(harness: PluginHarness, kksync_state: KksyncState) -> None:
    daemon = StandInDaemon(harness.device_root, kksync_state.handlers()).start()
    try:
        _, message, err = call(harness, "settings.set", {"sync_to_kobo_newer": "sometimes"})
        assert err["code"] == -32602
        assert "sync_to_kobo_newer" in message and "sometimes" in message
        _, message, err = call(harness, "sync.answer", {"token": "gone", "accept": True})
        assert (err["code"], err["data_kind"]) == (-32000, "stale_token")
        _, _, err = call(harness, "no.such.method")
        assert err["code"] == -32601
    finally:
        daemon.stop()


def test_a_silent_daemon_times_out_quickly(harness: PluginHarness, tmp_path: Path) -> None:
    sock_path = Path("/tmp") / f"kks-silent-{id(tmp_path)}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    info = harness.device_root / ".adds" / "kksync" / "daemon.json"
    info.parent.mkdir(parents=True)
    info.write_text(json.dumps({"socket": str(sock_path)}), encoding="utf-8")
    try:
        started = time.monotonic()
        result, message, err = call(harness, "status", read_timeout=0.3)
        elapsed = time.monotonic() - started
    finally:
        server.close()
        sock_path.unlink()
        for connection in accepted:
            connection.close()
    assert result is None and err["kind"] == "timeout"
    assert "did not answer" in message
    assert elapsed < 2
