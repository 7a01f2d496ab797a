"""The daemon beside KOReader: it ends with its parent, runs at low priority, and idles at no CPU."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from entrypoints.daemon.rpc import RpcDispatcher
from entrypoints.daemon.rpc_socket import RpcSocketServer
from tests.e2e.rpc.conftest import start_daemon, wait_for

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wake_ups(pid: int) -> dict[str, int]:
    """Each thread's voluntary context switches so far: one per return from a blocking wait."""
    counts = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        name = (task / "comm").read_text().strip()
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                counts[f"{name}/{task.name}"] = int(line.split()[1])
    return counts


def test_the_daemon_stops_when_the_pipe_from_its_parent_closes(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    read_end, write_end = os.pipe()
    try:
        running = start_daemon(
            demo_device, short_dir / "s.sock", daemon_env, "--parent-fd", str(read_end), pass_fds=(read_end,)
        )
    finally:
        os.close(read_end)
    os.close(write_end)  # what the kernel does when KOReader exits, however it exits
    assert running.process.wait(timeout=15) == 0
    assert not (demo_device / ".adds" / "kksync" / "daemon.json").exists()
    assert "is gone" in running.log.read_text()


def test_the_daemon_stops_when_its_parent_pid_exits(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    parent = subprocess.Popen(["sleep", "60"])
    try:
        running = start_daemon(demo_device, short_dir / "s.sock", daemon_env, "--parent-pid", str(parent.pid))
    finally:
        parent.kill()
        parent.wait()
    assert running.process.wait(timeout=15) == 0
    assert not running.socket_path.exists()


def test_an_idle_daemon_uses_no_cpu_and_runs_at_low_priority(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    running = start_daemon(demo_device, short_dir / "s.sock", daemon_env)
    try:
        wait_for(lambda: running.result("sync.plan")["summary"]["skipped"] == 5, 10, "the first sync")
        time.sleep(0.5)  # let the first sync's threads settle
        before, woken_before = cpu_seconds(running.process.pid), wake_ups(running.process.pid)
        time.sleep(3.0)
        used, woken_after = cpu_seconds(running.process.pid) - before, wake_ups(running.process.pid)
        assert used <= 0.03, f"an idle daemon used {used:.2f} s of CPU in 3 s: something polls"
        woke = {name: n - woken_before.get(name, 0) for name, n in woken_after.items()}
        assert sum(woke.values()) <= 1, f"threads woke up while nothing happened: {woke}"
        assert os.getpriority(os.PRIO_PROCESS, running.process.pid) >= 10
        if hasattr(os, "SCHED_BATCH"):
            assert os.sched_getscheduler(running.process.pid) == os.SCHED_BATCH
    finally:
        running.stop()


def test_a_request_sent_just_before_a_stop_is_still_answered(short_dir: Path) -> None:
    """KOReader sends reader.closed and quits at once; the daemon must still handle it before exiting."""
    handled = threading.Event()

    def slow_close(_params: object) -> dict[str, bool]:
        time.sleep(0.3)
        handled.set()
        return {"ok": True}

    server = RpcSocketServer(short_dir / "r.sock", RpcDispatcher({"reader.closed": slow_close}))
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(server.path))
    client.sendall(b'{"jsonrpc": "2.0", "id": 1, "method": "reader.closed", "params": {"path": "/x"}}\n')
    client.close()  # KOReader is gone
    server.close()
    assert handled.is_set(), "the daemon stopped before handling a request it had received"
    thread.join(5)
    assert not thread.is_alive()


def test_sigterm_during_the_blocking_wait_still_stops(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    running = start_daemon(demo_device, short_dir / "s.sock", daemon_env)
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=30) == 0


def test_a_book_open_in_koreader_at_start_is_left_alone(
    demo_device: Path, short_dir: Path, daemon_env: dict[str, str]
) -> None:
    """KOReader started straight into a book: the daemon starts after it and must not write that book."""
    pride = "0RDTATJQNHSQ0"
    running = start_daemon(
        demo_device, short_dir / "s.sock", daemon_env, "--open-book", f"/mnt/onboard/.kobo/kepub/{pride}"
    )
    try:
        assert running.result("status")["open_books"] == [pride]
    finally:
        running.stop()
    assert f"{pride} is open in KOReader" in running.log.read_text()
