"""A demo Kobo and a ``kksync daemon`` subprocess serving it on a short Unix socket path."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from entrypoints.demo.run import build_demo_device

KKSYNC = Path(sys.executable).with_name("kksync")
START_SECONDS = 15.0


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll until ``condition()`` is truthy; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


class Client:
    """A line-oriented JSON-RPC client on one connection."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(timeout)
        self.socket.connect(str(path))
        self.reader = self.socket.makefile("rb")
        self.next_id = 1

    def send(self, raw: bytes) -> None:
        self.socket.sendall(raw)

    def receive(self) -> dict[str, Any] | None:
        line = self.reader.readline()
        return json.loads(line) if line else None

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        self.next_id += 1
        self.send(json.dumps(request).encode() + b"\n")
        response = self.receive()
        assert response is not None, f"{method}: connection closed without an answer"
        assert response["id"] == request["id"]
        return response

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        response = self.call(method, params)
        assert "error" not in response, response
        return response["result"]

    def close(self) -> None:
        self.reader.close()
        self.socket.close()


@dataclass
class RunningDaemon:
    device: Path
    socket_path: Path
    process: subprocess.Popen[bytes]
    log: Path
    clients: list[Client] = field(default_factory=list)

    def client(self) -> Client:
        client = Client(self.socket_path)
        self.clients.append(client)
        return client

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        client = Client(self.socket_path)
        try:
            return client.result(method, params)
        finally:
            client.close()

    def stop(self) -> int:
        for client in self.clients:
            client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder under /tmp with a short path: AF_UNIX socket paths must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="kk", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def daemon_env(short_dir: Path) -> dict[str, str]:
    runtime = short_dir / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKSYNC_")}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["KKSYNC_LOG"] = "INFO"
    return env


@pytest.fixture
def demo_device(short_dir: Path) -> Path:
    device = short_dir / "dev"
    build_demo_device(device)
    return device


def start_daemon(
    device: Path, socket_path: Path, env: dict[str, str], *extra: str, pass_fds: tuple[int, ...] = ()
) -> RunningDaemon:
    log = socket_path.with_suffix(".log")
    arguments = [str(KKSYNC), "daemon", "--device", str(device), "--socket", str(socket_path), *extra]
    process = subprocess.Popen(
        arguments, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"), pass_fds=pass_fds
    )
    running = RunningDaemon(device, socket_path, process, log)
    daemon_json = device / ".adds" / "kksync" / "daemon.json"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"daemon exited with {process.returncode}: {log.read_text()}")
        try:
            announced = json.loads(daemon_json.read_text())
            return bool(announced["pid"] == process.pid and running.result("status"))
        except (OSError, ValueError, KeyError):
            return False

    try:
        wait_for(ready, START_SECONDS, "the daemon to start")
    except BaseException:
        process.kill()  # never leave a half-started daemon behind
        process.wait(10)
        raise
    return running


@pytest.fixture
def daemon(demo_device: Path, short_dir: Path, daemon_env: dict[str, str]) -> Iterator[RunningDaemon]:
    running = start_daemon(demo_device, short_dir / "s.sock", daemon_env)
    # The first sync (catch-up) has run once the ledger agrees with both sides.
    wait_for(lambda: running.result("sync.plan")["summary"]["skipped"] == 5, 10, "the first sync")
    yield running
    running.stop()
