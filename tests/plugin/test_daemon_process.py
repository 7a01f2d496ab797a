"""The plugin starts the bundled daemon at KOReader start and stops it before KOReader quits."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from entrypoints.demo.run import build_demo_device
from tests.plugin.conftest import PluginHarness

KKSYNC = Path(sys.executable).with_name("kksync")


def wait_for(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)
    return value


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def launcher(folder: Path, body: str) -> Path:
    """A stand-in for the bundle's `.adds/kksync/bin/kksync` (a shell script, as the bundle's is)."""
    script = folder / ".adds" / "kksync" / "bin" / "kksync"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_the_plugin_starts_the_bundled_daemon_once_with_its_lifeline(harness: PluginHarness) -> None:
    calls = harness.device_root / "calls.txt"
    script = launcher(harness.device_root, f'echo "$@" >> "{calls}"; ls -l /proc/$$/fd >> "{calls}.fds"')
    harness.ko.G_reader_settings["values"]["kksync_launcher"] = str(script)
    book = "/mnt/onboard/.kobo/kepub/0RDTATJQNHSQ0"
    harness.new_plugin(document=book)  # KOReader started straight into a book
    harness.new_plugin()  # a second view (the file manager after the reader): same KOReader, same daemon
    wait_for(calls.exists, 5, "the launcher to run")
    time.sleep(0.2)
    lines = calls.read_text().splitlines()
    assert len(lines) == 1
    words = lines[0].split()
    assert words[:3] == ["daemon", "--device", str(harness.device_root)]
    assert words[-2:] == ["--open-book", book]  # its first sync must leave the open book alone
    options = dict(zip(words[3::2], words[4::2], strict=False))
    assert (
        options["--socket"] == "/tmp/kksync-daemon.sock" and options["--pid-file"] == "/tmp/kksync-daemon.pid"
    )
    assert options["--log-file"] == str(harness.device_root / ".adds" / "kksync" / "daemon.log")
    fds = (calls.parent / "calls.txt.fds").read_text()
    lifeline = re.search(rf" {options['--parent-fd']} -> (pipe:\[\d+\])", fds)
    assert lifeline, fds  # the read end was handed over...
    assert fds.count(lifeline.group(1)) == 1  # ...and KOReader's write end was not (close-on-exec)


def test_no_launcher_no_start(harness: PluginHarness) -> None:
    plugin = harness.new_plugin()
    assert plugin.process.launched is False
    assert any("no bundled daemon" in line for line in harness.ui.logger.lines.values())


@pytest.fixture
def demo_root(short_dir: Path) -> Path:
    root = short_dir / "kobo"
    build_demo_device(root)
    return root


def daemon_process(harness: PluginHarness, root: Path, folder: Path) -> Any:
    script = launcher(folder, f'exec "{KKSYNC}" "$@"')
    module = harness.require("kksync/daemon_process")
    options = {
        "device_root": str(root),
        "launcher": str(script),
        "socket": str(folder / "d.sock"),
        "pid_file": str(folder / "d.pid"),
        "log_file": str(folder / "daemon.log"),
        "file_exists": harness.bridges.is_file,
    }
    return module.new(harness.lua.table_from(options))


def test_the_real_daemon_starts_answers_and_stops_within_the_budget(
    tmp_path: Path, demo_root: Path, short_dir: Path
) -> None:
    harness = PluginHarness(tmp_path, device_root=demo_root)
    process = daemon_process(harness, demo_root, short_dir)
    assert process.start(process) is True
    assert process.starting(process) is True
    pid = wait_for(lambda: process.pid(process), 30, "the daemon's pid file")
    assert process.starting(process) is False
    info = json.loads((demo_root / ".adds" / "kksync" / "daemon.json").read_text())
    assert info["socket"] == str(short_dir / "d.sock") and info["pid"] == pid
    assert os.getpriority(os.PRIO_PROCESS, pid) >= 10

    started = time.monotonic()
    process.stop(process)
    assert time.monotonic() - started <= 0.3  # SIGTERM and a short wait, never a frozen KOReader
    wait_for(lambda: not alive(pid), 10, "the daemon to exit")
    assert not (demo_root / ".adds" / "kksync" / "daemon.json").exists()
    assert "kksync daemon stopped" in (short_dir / "daemon.log").read_text()


def test_the_daemon_ends_with_koreader(tmp_path: Path, demo_root: Path, short_dir: Path) -> None:
    """KOReader's end of the lifeline closes when KOReader exits, however it exits."""
    harness = PluginHarness(tmp_path, device_root=demo_root)
    process = daemon_process(harness, demo_root, short_dir)
    process.start(process)
    pid = wait_for(lambda: process.pid(process), 30, "the daemon's pid file")
    process.releaseLifeline(process)  # what the kernel does to KOReader's descriptors at exit
    wait_for(lambda: not alive(pid), 10, "the orphaned daemon to exit")
    assert "is gone" in (short_dir / "daemon.log").read_text()


def test_quitting_koreader_stops_the_daemon(tmp_path: Path, demo_root: Path, short_dir: Path) -> None:
    """Exit, Restart and USB storage mode all end in UIManager:quit (86 for USB storage)."""
    harness = PluginHarness(tmp_path, device_root=demo_root)
    script = launcher(demo_root, f'exec "{KKSYNC}" "$@"')
    harness.ko.G_reader_settings["values"]["kksync_launcher"] = str(script)
    module = harness.require("kksync/daemon_process")
    module.SOCKET, module.PID_FILE = str(short_dir / "q.sock"), str(short_dir / "q.pid")
    plugin = harness.new_plugin()
    pid = wait_for(lambda: plugin.process.pid(plugin.process), 30, "the daemon's pid file")
    manager = harness.ui.UIManager
    manager.quit(manager, 86)
    wait_for(lambda: not alive(pid), 10, "the daemon to exit before USB storage mode")


def test_after_a_restart_the_new_daemon_starts_behind_the_finishing_one(
    tmp_path: Path, demo_root: Path, short_dir: Path
) -> None:
    first = daemon_process(PluginHarness(tmp_path / "a", device_root=demo_root), demo_root, short_dir)
    first.start(first)
    old_pid = wait_for(lambda: first.pid(first), 30, "the first daemon")
    os.kill(old_pid, signal.SIGTERM)  # Restart: KOReader stopped it and did not wait for the end
    restarted = PluginHarness(tmp_path / "b", device_root=demo_root)  # the new KOReader process
    second = daemon_process(restarted, demo_root, short_dir)
    assert second.start(second) is True
    new_pid = wait_for(lambda: (pid := second.pid(second)) and pid != old_pid and pid, 30, "the new daemon")
    assert not alive(old_pid)
    second.stop(second)
    wait_for(lambda: not alive(new_pid), 10, "the new daemon to exit")
    assert "already serves" not in (short_dir / "daemon.log").read_text()
