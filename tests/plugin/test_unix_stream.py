"""kksync/unix_stream: the FFI Unix socket a real KOReader uses to reach the daemon (issue 8).

KOReader's LuaSocket has no ``socket.unix``, so these run the module's libc calls for real under
LuaJIT against Python socket servers: lines split across writes, several lines per read, a
daemon that never answers (the call returns within its timeout instead of freezing KOReader),
a daemon that hangs up, stale and missing sockets, and a hang-up mid-send without SIGPIPE.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.conftest import PLUGIN_DIR, PluginHarness

TIMEOUT = 0.3


@pytest.fixture
def stream_module(tmp_path: Path) -> Any:
    module = PluginHarness(tmp_path, socket_unix=False).require("kksync/unix_stream")
    assert module.available() is True
    return module


def serve_once(path: Path, handler: Callable[[socket.socket], None]) -> threading.Thread:
    """Accepts one connection on ``path`` and runs ``handler`` with it on a thread."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def run() -> None:
        with server:
            connection, _ = server.accept()
            with connection:
                handler(connection)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def connected(module: Any, path: Path, timeout: float = 2.0) -> Any:
    stream = module.stream()
    stream.settimeout(stream, timeout)
    assert stream.connect(stream, str(path)) == 1
    return stream


def test_a_request_and_answers_split_across_writes(stream_module: Any, short_dir: Path) -> None:
    request = '{"method": "status"}\n' + "x" * 200_000 + "\n"  # more than one socket buffer
    received: list[bytes] = []

    def answer(connection: socket.socket) -> None:
        received.append(read_exactly(connection, len(request)))
        connection.sendall(b'{"jsonrpc": "2.0", "id"')
        time.sleep(0.05)
        connection.sendall(b': 1, "result": {"t": "\xc3\xa9"}}\r\nsecond\nthird')

    thread = serve_once(short_dir / "s", answer)
    stream = connected(stream_module, short_dir / "s")
    assert stream.send(stream, request) == len(request)
    assert stream.receive(stream, "*l") == '{"jsonrpc": "2.0", "id": 1, "result": {"t": "é"}}'
    assert stream.receive(stream, "*l") == "second"
    assert stream.receive(stream, "*l") == (None, "closed")  # "third" never got its newline
    stream.close(stream)
    stream.close(stream)
    thread.join(2)
    assert received == [request.encode()]


def test_a_silent_daemon_costs_the_timeout_not_a_frozen_reader(stream_module: Any, short_dir: Path) -> None:
    release = threading.Event()

    def stay_silent(connection: socket.socket) -> None:
        release.wait(5)

    thread = serve_once(short_dir / "s", stay_silent)
    stream = connected(stream_module, short_dir / "s", timeout=TIMEOUT)
    started = time.monotonic()
    assert stream.receive(stream, "*l") == (None, "timeout")
    waited = time.monotonic() - started
    release.set()
    stream.close(stream)
    thread.join(2)
    assert TIMEOUT * 0.9 <= waited < TIMEOUT + 2.0


def test_a_daemon_that_hangs_up_reads_as_closed(stream_module: Any, short_dir: Path) -> None:
    thread = serve_once(short_dir / "s", lambda connection: None)
    stream = connected(stream_module, short_dir / "s")
    thread.join(2)
    assert stream.receive(stream, "*l") == (None, "closed")
    assert stream.close(stream) == 1
    assert stream.receive(stream, "*l") == (None, "closed")
    assert stream.send(stream, "late\n") == (None, "closed")


def test_missing_stale_and_overlong_sockets_are_clear_failures(stream_module: Any, short_dir: Path) -> None:
    stream = stream_module.stream()
    assert stream.connect(stream, str(short_dir / "missing")) == (None, "No such file or directory")

    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(short_dir / "stale"))
    stale.close()  # the file stays, nobody listens: a daemon that died without cleaning up
    stream = stream_module.stream()
    assert stream.connect(stream, str(short_dir / "stale")) == (None, "Connection refused")

    stream = stream_module.stream()
    ok, message = stream.connect(stream, "/tmp/" + "d" * 120)
    assert ok is None and "too long" in message


def test_only_line_reads_are_offered(stream_module: Any) -> None:
    stream = stream_module.stream()
    with pytest.raises(Exception, match="reads lines only"):
        stream.receive(stream, "*a")
    stream.close(stream)


SIGPIPE_SCRIPT = """
import signal, sys
import lupa.luajit21 as lupa
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # what a C program like KOReader has by default
lua = lupa.LuaRuntime()
lua.globals().package.path = sys.argv[1] + "/?.lua;" + lua.globals().package.path
module = lua.eval('require("kksync/unix_stream")')
stream = module.stream()
stream.settimeout(stream, 2)
assert stream.connect(stream, sys.argv[2]) == 1
results = [stream.send(stream, "x" * 65536) for _ in range(64)]
print("survived", [r for r in results if not isinstance(r, int)][:1])
"""


def test_a_hang_up_mid_send_is_an_error_not_sigpipe(short_dir: Path) -> None:
    def hang_up(connection: socket.socket) -> None:
        connection.recv(10)

    thread = serve_once(short_dir / "s", hang_up)
    run = subprocess.run(
        [sys.executable, "-c", SIGPIPE_SCRIPT, str(PLUGIN_DIR), str(short_dir / "s")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    thread.join(2)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("survived [(None, '")  # e.g. "Broken pipe" / "Connection reset by peer"


def test_a_large_reply_is_read_in_linear_work(tmp_path: Path, short_dir: Path) -> None:
    """A 2 MB library.list line must not be re-searched and re-copied for every 4 KB read."""
    harness = PluginHarness(tmp_path, socket_unix=False)
    module = harness.require("kksync/unix_stream")
    # Count the bytes the module searches and joins, by wrapping the string functions it uses.
    counters = harness.lua.execute(
        """
        local counts = { searched = 0, joined = 0 }
        local find, concat = string.find, table.concat
        string.find = function(s, pattern, init, plain)
            counts.searched = counts.searched + #s - (init or 1) + 1
            return find(s, pattern, init, plain)
        end
        table.concat = function(t, ...)
            local result = concat(t, ...)
            counts.joined = counts.joined + #result
            return result
        end
        return counts
        """
    )
    line = "y" * 2_000_000
    thread = serve_once(short_dir / "s", lambda connection: connection.sendall(line.encode() + b"\nnext\n"))
    stream = connected(module, short_dir / "s")
    try:
        assert stream.receive(stream, "*l") == line
        assert stream.receive(stream, "*l") == "next"
    finally:
        stream.close(stream)
    thread.join(2)
    assert counters.searched <= 3 * len(line), (
        f"searched {counters.searched} bytes for a {len(line)}-byte line"
    )
    assert counters.joined <= 3 * len(line), f"joined {counters.joined} bytes for a {len(line)}-byte line"
