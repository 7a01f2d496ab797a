"""The plugin's prompt → answer round trip against the real ``kksync daemon`` on a demo Kobo (issue 8).

Nothing here is a stand-in on the kksync side: the daemon is the installed console script, serving
its own Unix socket and announcing it in ``<device>/.adds/kksync/daemon.json``, which the plugin
(running under LuaJIT with KOReader stand-ins) reads to connect. Both "newer" policies are set to
``prompt``, so the daemon's start-up sync must leave the demo's pull (Pride and Prejudice) and
pushes (Alice, The Art of War) waiting for the reader's answer in KOReader's ConfirmBoxes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.epub.content import EpubContent
from adapters.koreader.lua_sandbox import shared_sandbox
from entrypoints.demo.run import BOOKS, build_demo_device
from tests.plugin.conftest import PluginHarness, to_python

KKSYNC = Path(sys.executable).with_name("kksync")
START_SECONDS = 10.0
STOP_SECONDS = 10.0

PRIDE = "0RDTATJQNHSQ0"
PRIDE_TITLE = "Pride and Prejudice"
ALICE = "5e0a7f4c-2b1d-4c8e-9a43-7d2f0c6b1e95"
ALICE_TITLE = "Alice's Adventures in Wonderland"
ART_OF_WAR_TITLE = "The Art of War"
PROMPTS = 'sync_from_kobo_newer = "prompt"\nsync_to_kobo_newer = "prompt"\n'


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll ``condition()`` until it is truthy; fail naming ``what`` once ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class RealDaemon:
    """One ``kksync daemon`` process for the demo device, with its socket and log."""

    device: Path
    socket_path: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def info_path(self) -> Path:
        return self.device / ".adds" / "kksync" / "daemon.json"

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """One call on a fresh connection, straight from Python (not through the plugin)."""
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            request["params"] = params
        with closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as client:
            client.settimeout(20)
            client.connect(str(self.socket_path))
            client.sendall(json.dumps(request).encode() + b"\n")
            with client.makefile("rb") as lines:
                response = json.loads(lines.readline())
        assert "error" not in response, response
        return response["result"]

    def announced(self) -> bool:
        """daemon.json names this process and its socket answers ``status``."""
        if self.process.poll() is not None:
            raise AssertionError(f"kksync daemon exited with {self.process.returncode}: {self.log_text()}")
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            return bool(info["pid"] == self.process.pid and self.result("status"))
        except (OSError, ValueError, KeyError):
            return False

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a service manager would; the daemon removes daemon.json and its socket."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"kksync daemon ignored SIGTERM for {STOP_SECONDS} s") from None


@pytest.fixture
def demo_kobo(tmp_path: Path) -> Path:
    """The demo Kobo, with both "newer" policies set to ask."""
    device = tmp_path / "kobo"
    build_demo_device(device)
    config = device / ".adds" / "kksync" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(PROMPTS, encoding="utf-8")
    return device


@pytest.fixture
def demo_harness(tmp_path: Path, demo_kobo: Path) -> PluginHarness:
    """The plugin under LuaJIT, its device root pointed at the demo Kobo."""
    return PluginHarness(tmp_path, device_root=demo_kobo)


@pytest.fixture
def before_daemon(demo_kobo: Path) -> dict[str, Any]:
    """What the books the daemon must not touch unasked looked like before it started."""
    return {"pride_sidecar": pride_sidecar(demo_kobo).read_bytes(), "alice_rows": kobo_rows(demo_kobo, ALICE)}


@pytest.fixture
def real_daemon(demo_kobo: Path, short_dir: Path, before_daemon: dict[str, Any]) -> Iterator[RealDaemon]:
    """``kksync daemon`` serving the demo Kobo, after its start-up sync has run."""
    runtime = short_dir / "run"
    runtime.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if not key.startswith("KKSYNC_")}
    env.update(XDG_RUNTIME_DIR=str(runtime), KKSYNC_LOG="INFO")
    socket_path = short_dir / "d.sock"
    log = short_dir / "daemon.log"
    command = [str(KKSYNC), "daemon", "--device", str(demo_kobo), "--socket", str(socket_path)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    daemon = RealDaemon(demo_kobo, socket_path, log, process)
    try:
        wait_for(daemon.announced, START_SECONDS, "kksync daemon to announce its socket")
        # The start-up sync logs its books once the whole run is over.
        wait_for(
            lambda: f"{PRIDE_TITLE}: waiting for an answer" in daemon.log_text(),
            START_SECONDS,
            "the daemon's start-up sync",
        )
        yield daemon
    finally:
        if process.poll() is None:
            daemon.stop()


def pride_sidecar(device: Path) -> Path:
    return device / ".kobo" / "kepub" / f"{PRIDE}.sdr" / "metadata.epub.lua"


def kobo_rows(device: Path, book_id: str) -> list[tuple[Any, ...]]:
    """The book's row and its chapters' rows in Nickel's database, read-only."""
    database = device / ".kobo" / "KoboReader.sqlite"
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT * FROM content WHERE ContentID = ? OR BookID = ? ORDER BY ContentID, ContentType",
            (book_id, book_id),
        ).fetchall()
    assert rows, f"{book_id} is not in {database}"
    return rows


def kobo_bookmark(device: Path, book_id: str) -> tuple[str, str]:
    """Nickel's ``ChapterIDBookmarked`` of a kepub, split into (chapter zip path, koboSpan id)."""
    database = device / ".kobo" / "KoboReader.sqlite"
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        (bookmark,) = conn.execute(
            "SELECT ChapterIDBookmarked FROM content WHERE ContentID = ? AND ContentType = 6", (book_id,)
        ).fetchone()
    chapter, _, span = str(bookmark).partition("#")
    return chapter, span


def answer_every_question(harness: PluginHarness, accept: set[str]) -> list[tuple[str, str, bool]]:
    """Answers the ConfirmBoxes as they come, "Use Kobo's"/"Send to Kobo" for titles in ``accept``.

    Returns (title, ok button, accepted) per box, in the order the plugin asked.
    """
    asked: list[tuple[str, str, bool]] = []
    while len(boxes := harness.shown("ConfirmBox")) > len(asked):
        box = boxes[len(asked)]
        title = str(box.text).split("\n", 1)[0]
        yes = title in accept
        asked.append((title, str(box.ok_text), yes))
        (box.ok_callback if yes else box.cancel_callback)()
        harness.settle()  # the answer is sent; the next question comes with its reply
    return asked


def test_startup_sync_leaves_prompted_books_waiting(
    real_daemon: RealDaemon, before_daemon: dict[str, Any]
) -> None:
    log = real_daemon.log_text()
    assert f"{PRIDE_TITLE}: waiting for an answer (FROM_KOBO)" in log
    assert f"{ALICE_TITLE}: waiting for an answer (TO_KOBO)" in log
    assert pride_sidecar(real_daemon.device).read_bytes() == before_daemon["pride_sidecar"]
    assert kobo_rows(real_daemon.device, ALICE) == before_daemon["alice_rows"]


def test_prompts_are_answered_in_koreader_and_applied_by_the_daemon(
    demo_harness: PluginHarness, real_daemon: RealDaemon, before_daemon: dict[str, Any]
) -> None:
    device = real_daemon.device
    plugin = demo_harness.new_plugin()
    plugin.sync.syncNow(plugin.sync)
    demo_harness.settle()
    assert "3 book(s) need your decision." in demo_harness.last("InfoMessage").text
    pull_text = str(demo_harness.shown("ConfirmBox")[0].text)
    lines = pull_text.split("\n")
    assert lines[0] == PRIDE_TITLE and lines[-1] == "Sync newer progress from Kobo?"
    assert lines[1].startswith("Kobo: ") and lines[1].endswith("(2026-11-20 14:30 UTC)")  # Nickel's read
    assert lines[2].startswith("KOReader: ") and lines[2].endswith("(2026-11-19 21:02 UTC)")

    asked = answer_every_question(demo_harness, accept={PRIDE_TITLE})

    assert sorted(asked) == [
        (ALICE_TITLE, "Send to Kobo", False),
        (PRIDE_TITLE, "Use Kobo's", True),
        (ART_OF_WAR_TITLE, "Send to Kobo", False),
    ]
    answers = [request["params"] for request in demo_harness.sent_requests("sync.answer")]
    assert [answer["accept"] for answer in answers] == [accepted for _, _, accepted in asked]
    assert len({answer["token"] for answer in answers}) == 3
    methods = [r["method"] for r in demo_harness.sent_requests()]
    assert methods[methods.index("sync.run") - 1] == "settings.get"  # Sync now checks the switch first
    failures = [w.text for w in demo_harness.shown("InfoMessage") if str(w.text).startswith("kksync")]
    assert failures == [], failures  # every sync.answer succeeded (no stale token, no error)

    # Accepted pull: KOReader's sidecar now opens Pride and Prejudice at Nickel's bookmarked span.
    sidecar: Any = shared_sandbox().load_file(pride_sidecar(device))
    assert str(sidecar["annotations"][1]["note"]).startswith("Remember this line.")  # highlight kept
    chapter, span = kobo_bookmark(device, PRIDE)
    book = EpubContent().open(device / ".kobo" / "kepub" / PRIDE)
    target = book.locate(str(sidecar["last_xpointer"]))
    assert target is not None and target.resolved
    assert (target.spine_index, target.span) == (book.spine_index(chapter), span)

    # Declined push: Nickel's rows for Alice are untouched, and the daemon remembers the "no".
    assert kobo_rows(device, ALICE) == before_daemon["alice_rows"]
    plan = {report["book_id"]: report for report in real_daemon.result("sync.plan")["books"]}
    assert (plan[ALICE]["decision"], plan[ALICE]["reason"]) == ("SKIP", "DECLINED")
    assert (plan[PRIDE]["decision"], plan[PRIDE]["reason"]) == ("SKIP", "IN_SYNC")
    log = real_daemon.log_text()
    assert " ERROR " not in log and "Traceback" not in log, log


def test_without_the_daemon_sync_now_says_so_and_the_library_comes_from_the_database(
    demo_harness: PluginHarness, real_daemon: RealDaemon
) -> None:
    assert real_daemon.stop() == 0
    assert not real_daemon.info_path.exists() and not real_daemon.socket_path.exists()

    plugin = demo_harness.new_plugin()
    plugin.sync.syncNow(plugin.sync)
    demo_harness.settle()
    assert "The kksync daemon is not running" in demo_harness.last("InfoMessage").text
    assert demo_harness.shown("ConfirmBox") == []

    demo_harness.show_library(plugin)
    menu = demo_harness.last("Menu")
    assert str(menu.title).endswith("· offline")
    rows = [to_python(item) for item in menu.item_table.values()][1:]  # row 1 toggles the sort order
    assert sorted(row["book"]["title"] for row in rows) == sorted(book.title for book in BOOKS)


def test_a_koreader_without_socket_unix_reaches_the_daemon_through_the_ffi(
    tmp_path: Path, demo_kobo: Path, real_daemon: RealDaemon, before_daemon: dict[str, Any]
) -> None:
    """Real KOReader builds LuaSocket without ``socket.unix``: the whole prompt flow must still work."""
    harness = PluginHarness(tmp_path, device_root=demo_kobo, socket_unix=False)
    plugin = harness.new_plugin()
    uses_ffi = harness.lua.eval('function(p) return p.daemon.unix == require("kksync/unix_stream") end')
    assert uses_ffi(plugin) is True

    plugin.sync.syncNow(plugin.sync)
    harness.settle()
    assert "3 book(s) need your decision." in harness.last("InfoMessage").text
    asked = answer_every_question(harness, accept={PRIDE_TITLE, ALICE_TITLE})
    assert sorted(title for title, _, _ in asked) == sorted([PRIDE_TITLE, ALICE_TITLE, ART_OF_WAR_TITLE])
    failures = [w.text for w in harness.shown("InfoMessage") if str(w.text).startswith("kksync")]
    assert failures == [], failures

    plan = {report["book_id"]: report for report in real_daemon.result("sync.plan")["books"]}
    assert (plan[PRIDE]["decision"], plan[PRIDE]["reason"]) == ("SKIP", "IN_SYNC")
    assert (plan[ALICE]["decision"], plan[ALICE]["reason"]) == ("SKIP", "IN_SYNC")
    assert kobo_rows(demo_kobo, ALICE) != before_daemon["alice_rows"]  # the accepted push landed
    _, span = kobo_bookmark(demo_kobo, ALICE)
    assert span.startswith("kobo.")  # at KOReader's place, as a koboSpan

    harness.show_library(plugin)
    assert not str(harness.last("Menu").title).endswith("· offline")
