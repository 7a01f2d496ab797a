"""Every RPC method and error code over the daemon's real Unix socket."""

from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import stat
import threading
import tomllib
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.rpc.conftest import Client, RunningDaemon

PRIDE = "0RDTATJQNHSQ0"
PRIDE_PATH = f"/mnt/onboard/.kobo/kepub/{PRIDE}"


def test_status_describes_the_server(daemon: RunningDaemon) -> None:
    status = daemon.result("status")
    assert status["device"] == str(daemon.device)
    assert status["koreader_dir"] == str(daemon.device / ".adds" / "koreader")
    assert status["settings"]["sync_from_kobo_newer"] == "silent"
    assert status["open_books"] == []
    assert status["version"]


def test_socket_is_private_and_daemon_json_points_at_it(daemon: RunningDaemon) -> None:
    assert stat.S_IMODE(daemon.socket_path.stat().st_mode) == 0o600
    announced = json.loads((daemon.device / ".adds" / "kksync" / "daemon.json").read_text())
    assert announced == {
        "socket": str(daemon.socket_path),
        "pid": daemon.process.pid,
        "device": str(daemon.device),
        "version": daemon.result("status")["version"],
        "host": socket.gethostname(),  # a daemon.json left by another computer is ignored
    }


def test_library_list_shows_every_book_with_both_sides(daemon: RunningDaemon) -> None:
    books = {book["book_id"]: book for book in daemon.result("library.list")["books"]}
    assert len(books) == 5
    pride = books[PRIDE]
    assert (pride["title"], pride["author"], pride["source"], pride["kind"]) == (
        "Pride and Prejudice",
        "Jane Austen",
        "komga",
        "kepub",
    )
    assert pride["path"] == PRIDE_PATH
    assert pride["cover"] is None
    assert pride["kobo"]["status"] == "READING"
    assert pride["koreader"]["percent"] == pride["kobo"]["percent"]
    assert books["0V8Q3M5K7T2XZ"]["koreader"] is None


def test_plan_and_run_share_the_cli_document(daemon: RunningDaemon) -> None:
    plan = daemon.result("sync.plan", {"books": [PRIDE]})
    assert plan["dry_run"] is True
    assert [book["book_id"] for book in plan["books"]] == [PRIDE]
    assert plan["books"][0]["reason"] == "IN_SYNC"
    run = daemon.result("sync.run")
    assert run["dry_run"] is False
    assert run["summary"]["books"] == 5
    assert run["questions"] == []


def test_a_prompt_becomes_a_question_that_can_be_answered(daemon: RunningDaemon) -> None:
    daemon.result("settings.set", {"sync_from_kobo_newer": "prompt"})
    move_pride_forward_in_nickel(daemon.device)
    run = daemon.result("sync.run", {"books": [PRIDE]})
    [question] = run["questions"]
    assert question["book_id"] == PRIDE
    assert question["direction"] == "FROM_KOBO"
    assert question["text"].startswith("Pride and Prejudice\nKobo: ")
    client = daemon.client()
    answered = client.result("sync.answer", {"token": question["token"], "accept": True})
    assert answered["book"]["written"] is True
    stale = client.call("sync.answer", {"token": question["token"], "accept": True})
    assert stale["error"]["code"] == -32000
    assert stale["error"]["data"] == {"kind": "stale_token"}


def test_reader_opened_and_closed_track_the_open_book(daemon: RunningDaemon) -> None:
    opened = daemon.result("reader.opened", {"path": PRIDE_PATH})
    assert opened == {"book_id": PRIDE, "open_books": [PRIDE]}
    assert daemon.result("status")["open_books"] == [PRIDE]
    closed = daemon.result("reader.closed", {"path": PRIDE_PATH})
    assert closed["book"]["book_id"] == PRIDE
    assert closed["questions"] == []
    assert daemon.result("status")["open_books"] == []
    unknown = daemon.result("reader.closed", {"path": "/mnt/onboard/elsewhere.pdf"})
    assert unknown == {"book": None, "questions": []}


def test_settings_set_writes_the_config_file_and_takes_effect(daemon: RunningDaemon) -> None:
    changed = daemon.result("settings.set", {"enable_auto_sync": False, "sync_to_kobo_older": "prompt"})
    assert changed["settings"]["enable_auto_sync"] is False
    stored = tomllib.loads((daemon.device / ".adds" / "kksync" / "config.toml").read_text())
    assert stored["enable_auto_sync"] is False and stored["sync_to_kobo_older"] == "prompt"
    assert daemon.result("settings.get")["settings"] == changed["settings"]
    assert daemon.result("status")["settings"]["enable_auto_sync"] is False
    # With automatic syncs off, closing a book syncs nothing.
    daemon.result("reader.opened", {"path": PRIDE_PATH})
    assert daemon.result("reader.closed", {"path": PRIDE_PATH}) == {"book": None, "questions": []}


def test_every_error_code(daemon: RunningDaemon) -> None:
    client = daemon.client()

    def error_of(raw: bytes) -> dict[str, Any]:
        client.send(raw + b"\n")
        response = client.receive()
        assert response is not None
        return dict(response["error"])

    assert error_of(b"{oops")["code"] == -32700
    assert error_of(b'{"jsonrpc":"2.0","id":1}')["code"] == -32600
    assert error_of(b'[{"jsonrpc":"2.0","id":1,"method":"status"}]')["code"] == -32600
    assert error_of(b'{"jsonrpc":"2.0","id":1,"method":"sync.explode"}')["code"] == -32601
    assert (
        error_of(b'{"jsonrpc":"2.0","id":1,"method":"sync.run","params":{"books":"all"}}')["code"] == -32602
    )
    assert error_of(b'{"jsonrpc":"2.0","id":1,"method":"reader.opened","params":{}}')["code"] == -32602
    assert (
        error_of(b'{"jsonrpc":"2.0","id":1,"method":"sync.answer","params":{"token":"t"}}')["code"] == -32602
    )
    bad_setting = error_of(
        b'{"jsonrpc":"2.0","id":1,"method":"settings.set","params":{"sync_to_kobo_newer":"x"}}'
    )
    assert bad_setting["code"] == -32602
    assert (
        "sync_to_kobo_newer" in bad_setting["message"] and "prompt, silent, never" in bad_setting["message"]
    )
    unknown_key = error_of(b'{"jsonrpc":"2.0","id":1,"method":"settings.set","params":{"colour":"red"}}')
    assert unknown_key["code"] == -32602 and "colour" in unknown_key["message"]
    missing_book = error_of(b'{"jsonrpc":"2.0","id":1,"method":"sync.plan","params":{"books":["NOPE"]}}')
    assert missing_book["code"] == -32000 and missing_book["data"]["kind"] == "book"
    assert "NOPE" in missing_book["message"]
    too_long = error_of(
        b'{"jsonrpc":"2.0","id":1,"method":"status","params":{"x":"' + b"a" * (1 << 20) + b'"}}'
    )
    assert too_long["code"] == -32600
    # The connection still serves after all of that.
    assert client.result("status")["open_books"] == []
    assert not (daemon.device / ".adds" / "kksync" / "config.toml").exists()


def test_notifications_run_without_an_answer(daemon: RunningDaemon) -> None:
    client = daemon.client()
    client.send(
        b'{"jsonrpc":"2.0","method":"reader.opened","params":{"path":"' + PRIDE_PATH.encode() + b'"}}\n'
    )
    assert client.result("status")["open_books"] == [PRIDE]


def test_a_thousand_malformed_messages_leave_the_server_serving(daemon: RunningDaemon) -> None:
    rng = random.Random(7)
    valid = b'{"jsonrpc":"2.0","id":5,"method":"status"}'
    answered = 0
    for round_number in range(10):
        client = Client(daemon.socket_path, timeout=10)
        expected = 0
        for _ in range(100):
            kind = rng.randrange(5)
            if kind == 0:
                raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).replace(b"\n", b"")
            elif kind == 1:
                raw = valid[: rng.randrange(1, len(valid))]
            elif kind == 2:
                raw = json.dumps(rng.choice([[], 1, "x", None, {"jsonrpc": "2.0", "id": [1]}])).encode()
            elif kind == 3:
                raw = (
                    b'{"jsonrpc":"2.0","id":1,"method":"sync.plan","params":{"books":[' + b"1," * 50 + b"2]}}"
                )
            else:
                raw = b'{"jsonrpc":"2.0","id":2,"method":"' + os.urandom(8).hex().encode() + b'"}'
            client.send(raw + b"\n")
            if raw.strip():
                expected += 1
        for _ in range(expected):
            response = client.receive()
            assert response is not None and "error" in response
            answered += 1
        if round_number % 2:
            client.send(valid[:20])  # hang up mid-message
            client.close()
        else:
            assert client.result("status")["device"] == str(daemon.device)
            client.close()
    assert answered >= 950
    assert daemon.result("status")["device"] == str(daemon.device)
    assert daemon.process.poll() is None


def test_concurrent_calls_are_all_answered(daemon: RunningDaemon) -> None:
    results: list[Any] = []
    errors: list[BaseException] = []

    def caller(method: str) -> None:
        try:
            results.append(daemon.result(method))
        except BaseException as error:
            errors.append(error)

    methods = ["sync.run", "sync.plan", "library.list", "status", "settings.get"] * 4
    threads = [threading.Thread(target=caller, args=(method,)) for method in methods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == len(methods)


def move_pride_forward_in_nickel(device: Path) -> None:
    """Nickel read on to chapter 3 just now: an UPDATE of the book row, as Nickel makes it."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as db, db:
        db.execute(
            "UPDATE content SET ___PercentRead = 90, DateLastRead = ?, ChapterIDBookmarked = ? "
            "WHERE ContentID = ? AND ContentType = 6",
            (now, "OEBPS/Text/chapter03.xhtml#kobo.1.1", PRIDE),
        )
