"""``kksync daemon`` without ``--device``: waits for a Kobo to appear, syncs it, tells the desktop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.demo.run import build_demo_device
from tests.e2e.rpc.conftest import KKSYNC, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell stand-in for notify-send")


def fake_notify_send(folder: Path, record: Path) -> Path:
    """A ``notify-send`` that writes its arguments to ``record``, one call per line."""
    tool = folder / "notify-send"
    tool.write_text(f'#!/bin/sh\necho "$@" >> "{record}"\n', encoding="utf-8")
    tool.chmod(0o755)
    return folder


def test_a_kobo_mounted_later_is_synced_once_per_connection(
    short_dir: Path, daemon_env: dict[str, str]
) -> None:
    mounts, staging, tools = short_dir / "media", short_dir / "staging", short_dir / "bin"
    for folder in (mounts, staging, tools):
        folder.mkdir()
    notes = short_dir / "notifications.txt"
    env = {**daemon_env, "PATH": f"{fake_notify_send(tools, notes)}:{os.environ['PATH']}"}
    log = short_dir / "daemon.log"
    process = subprocess.Popen(
        [str(KKSYNC), "daemon", "--mount-parent", str(mounts), "--log-file", str(log)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: log.exists() and "waiting for a Kobo" in log.read_text(), 15, "the daemon to wait")
        build_demo_device(staging / "KOBOeReader")
        (staging / "KOBOeReader").rename(mounts / "KOBOeReader")  # appears at once, as a mount does
        wait_for(lambda: notes.exists() and "Kobo synced" in notes.read_text(), 30, "the sync notification")
        assert "pulled to KOReader" in notes.read_text()
        text = log.read_text()
        assert f"a Kobo was connected at {mounts / 'KOBOeReader'}" in text
        assert "pushed to the Kobo" in text

        (mounts / "KOBOeReader").rename(staging / "KOBOeReader")  # unmounted
        wait_for(lambda: "was disconnected" in log.read_text(), 15, "the disconnection")
        (staging / "KOBOeReader").rename(mounts / "KOBOeReader")  # plugged in again
        wait_for(lambda: notes.read_text().count("Kobo synced") == 2, 30, "the second sync")
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
