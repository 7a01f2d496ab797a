"""``kksync rpc`` over stdin/stdout, as a subprocess."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from adapters.kobo.covers import cover_folder
from tests.e2e.rpc.conftest import KKSYNC
from tests.support.nickel import device_with_real_fixture


def converse(device: Path, env: dict[str, str], lines: list[bytes]) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(KKSYNC), "rpc", "--device", str(device)],
        input=b"".join(line + b"\n" for line in lines),
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_requests_in_responses_out_notifications_silent(
    demo_device: Path, daemon_env: dict[str, str]
) -> None:
    responses = converse(
        demo_device,
        daemon_env,
        [
            b'{"jsonrpc":"2.0","id":1,"method":"status"}',
            b'{"jsonrpc":"2.0","method":"reader.opened","params":{"path":"/mnt/onboard/.kobo/kepub/0RDTATJQNHSQ0"}}',
            b"this is not json",
            b'{"jsonrpc":"2.0","id":"two","method":"status"}',
            b'{"jsonrpc":"2.0","id":3,"method":"sync.plan","params":{"books":["0RDTATJQNHSQ0"]}}',
        ],
    )
    assert [response["id"] for response in responses] == [1, None, "two", 3]
    assert responses[0]["result"]["open_books"] == []
    assert responses[1]["error"]["code"] == -32700
    assert responses[2]["result"]["open_books"] == ["0RDTATJQNHSQ0"]
    [planned] = responses[3]["result"]["books"]
    assert planned["decision"] == "PULL" and planned["written"] is False


def test_sync_run_over_stdio_writes_and_a_second_run_finds_nothing(
    demo_device: Path, daemon_env: dict[str, str]
) -> None:
    run = b'{"jsonrpc":"2.0","id":1,"method":"sync.run"}'
    [first, second] = converse(demo_device, daemon_env, [run, run])
    assert first["result"]["summary"]["pulled"] + first["result"]["summary"]["pushed"] >= 2
    assert second["result"]["summary"]["pulled"] == second["result"]["summary"]["pushed"] == 0


def test_library_list_on_the_real_firmware_database(short_dir: Path, daemon_env: dict[str, str]) -> None:
    device = short_dir / "real"
    device_with_real_fixture(device)
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as db:
        covered, image_id = db.execute(
            "SELECT ContentID, ImageId FROM content WHERE ContentType = 6 AND ImageId != '' LIMIT 1"
        ).fetchone()
    thumbnail = device / ".kobo-images" / cover_folder(image_id) / f"{image_id} - N3_LIBRARY_GRID.parsed"
    thumbnail.parent.mkdir(parents=True)
    thumbnail.write_bytes(b"\xff\xd8\xff")
    [response] = converse(device, daemon_env, [b'{"jsonrpc":"2.0","id":1,"method":"library.list"}'])
    books = response["result"]["books"]
    assert len(books) == 34
    assert len({book["book_id"] for book in books}) == 34
    for book in books:
        assert book["title"]
        assert book["path"].startswith("/mnt/")
        assert book["kobo"]["status"] in {"UNOPENED", "READING", "FINISHED", "ABANDONED"}
        expected = f"/mnt/onboard/{thumbnail.relative_to(device)}" if book["book_id"] == covered else None
        assert book["cover"] == expected
        assert book["koreader"] is None
    assert {book["source"] for book in books} <= {"komga", "calibre-web", "kobo-store", "sideloaded"}
    assert any(book["kobo"]["status"] == "READING" for book in books)
