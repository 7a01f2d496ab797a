"""Starting, refusing and stopping the daemon: one per device, and nothing left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from tests.e2e.rpc.conftest import KKSYNC, start_daemon, wait_for


def daemon_json(device: Path) -> Path:
    return device / ".adds" / "kksync" / "daemon.json"


def test_sigterm_stops_cleanly_and_removes_every_trace(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    pid_file, log_file = short_dir / "kk.pid", short_dir / "kk.log"
    running = start_daemon(
        demo_device,
        short_dir / "s.sock",
        daemon_env,
        "--pid-file",
        str(pid_file),
        "--log-file",
        str(log_file),
    )
    assert pid_file.read_text().strip() == str(running.process.pid)
    assert running.result("status")["device"] == str(demo_device)
    assert running.stop() == 0
    assert not running.socket_path.exists()
    assert not daemon_json(demo_device).exists()
    assert not pid_file.exists()
    assert "kksync daemon stopped" in log_file.read_text()


def test_a_second_daemon_for_the_same_device_refuses(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    first = start_daemon(demo_device, short_dir / "a.sock", daemon_env)
    try:
        second = subprocess.run(
            [str(KKSYNC), "daemon", "--device", str(demo_device), "--socket", str(short_dir / "b.sock")],
            env=daemon_env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert f"already serves {demo_device}" in second.stderr
        assert str(first.process.pid) in second.stderr
        assert not (short_dir / "b.sock").exists()
        # The first one is untouched and still announced.
        assert json.loads(daemon_json(demo_device).read_text())["pid"] == first.process.pid
        assert first.result("status")["open_books"] == []
    finally:
        assert first.stop() == 0


def test_a_daemon_with_another_runtime_dir_is_still_seen_through_daemon_json(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    first = start_daemon(demo_device, short_dir / "a.sock", daemon_env)
    other_runtime = short_dir / "run2"
    other_runtime.mkdir(mode=0o700)
    try:
        second = subprocess.run(
            [str(KKSYNC), "daemon", "--device", str(demo_device), "--socket", str(short_dir / "b.sock")],
            env={**daemon_env, "XDG_RUNTIME_DIR": str(other_runtime)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1 and "already serves" in second.stderr
    finally:
        first.stop()


def test_a_stale_socket_and_daemon_json_from_a_dead_daemon_are_replaced(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    socket_path = short_dir / "s.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(socket_path))
    dead.close()  # the file stays, nobody listens: what a killed daemon leaves
    gone = subprocess.run(["true"], check=True)  # a pid that is surely not running any more
    del gone
    daemon_json(demo_device).parent.mkdir(parents=True, exist_ok=True)
    daemon_json(demo_device).write_text(json.dumps({"socket": str(socket_path), "pid": 2**22 + 7}))
    running = start_daemon(demo_device, socket_path, daemon_env)
    try:
        assert json.loads(daemon_json(demo_device).read_text())["pid"] == running.process.pid
        assert running.result("status")["device"] == str(demo_device)
    finally:
        assert running.stop() == 0


def test_the_default_socket_lives_in_a_private_runtime_directory(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    process = subprocess.Popen(
        [str(KKSYNC), "daemon", "--device", str(demo_device)],
        env=daemon_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        announced = wait_for(
            lambda: daemon_json(demo_device).exists() and json.loads(daemon_json(demo_device).read_text()),
            15,
            "daemon.json",
        )
        socket_path = Path(announced["socket"])
        runtime = Path(daemon_env["XDG_RUNTIME_DIR"]) / "kksync"
        assert socket_path.parent == runtime
        assert oct(runtime.stat().st_mode & 0o777) == oct(0o700)
        assert oct(socket_path.stat().st_mode & 0o777) == oct(0o600)
    finally:
        process.terminate()
        assert process.wait(20) == 0
    assert not daemon_json(demo_device).exists()


def test_a_device_that_is_not_a_kobo_is_refused(short_dir: Path, daemon_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(KKSYNC), "daemon", "--device", str(short_dir), "--socket", str(short_dir / "s.sock")],
        env=daemon_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "is not a Kobo" in result.stderr
    assert not os.path.exists(short_dir / "s.sock")


def test_the_daemon_removes_what_an_interrupted_run_left(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    backups = demo_device / ".adds" / "kksync" / "backups"
    partial = backups / "KoboReader-20261130T101500Z.sqlite.partial"
    temp = demo_device / ".kobo" / "kepub" / "0RDTATJQNHSQ0.sdr" / ".metadata.epub.lua.q1w2e3r4.kksync-tmp"
    foreign = backups / "KoboReader-mine.sqlite.partial"
    for path in (partial, temp, foreign):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    running = start_daemon(demo_device, short_dir / "s.sock", daemon_env)
    try:
        wait_for(lambda: not partial.exists() and not temp.exists(), 20, "the leftovers to be removed")
        assert foreign.exists()
    finally:
        assert running.stop() == 0
    assert "interrupted kksync run" in running.log.read_text()
