"""The daemon answers ``library.list`` from memory, and that memory stays what a fresh plan gives."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from entrypoints.presenters import koreader_json
from tests.e2e.rpc.conftest import KKSYNC, RunningDaemon, wait_for
from tests.integration.daemon.test_watching import (
    PRIDE,
    SYNC_SECONDS,
    TIME_MACHINE,
    kobo_percent,
    koreader_chapter,
    koreader_reads_on,
    nickel_reads_on,
)


def fresh_books(daemon: RunningDaemon) -> dict[str, dict[str, Any]]:
    """``kksync books --json``: the library as a fresh plan of the whole device sees it."""
    command = [str(KKSYNC), "books", "--json", "--device", str(daemon.device)]
    output = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
    rows = {row["book_id"]: row for row in json.loads(output)["books"]}
    for row in rows.values():  # the CLI shows a missing sidecar as an empty side, the RPC as null
        if row["koreader"] == koreader_json(None):
            row["koreader"] = None
    return rows


def listed_books(daemon: RunningDaemon) -> dict[str, dict[str, Any]]:
    rows = daemon.result("library.list")["books"]
    assert [row["book_id"] for row in rows] == sorted(row["book_id"] for row in rows)
    return {row["book_id"]: {k: v for k, v in row.items() if k != "cover"} for row in rows}


def assert_listing_is_fresh(daemon: RunningDaemon) -> dict[str, dict[str, Any]]:
    listed = listed_books(daemon)
    assert listed == fresh_books(daemon)
    return listed


def test_library_list_follows_changes_on_both_sides(daemon: RunningDaemon) -> None:
    before = assert_listing_is_fresh(daemon)

    nickel_reads_on(daemon.device, PRIDE, "OEBPS/Text/chapter03.xhtml", 90)
    wait_for(
        lambda: koreader_chapter(daemon, PRIDE) == "OEBPS/Text/chapter03.xhtml", SYNC_SECONDS, "the pull"
    )
    after_pull = assert_listing_is_fresh(daemon)
    assert after_pull[PRIDE]["kobo"] != before[PRIDE]["kobo"]
    assert after_pull[PRIDE]["koreader"] != before[PRIDE]["koreader"]

    koreader_reads_on(daemon.device, TIME_MACHINE, 0.6, "/body/DocFragment[3]/body")
    wait_for(lambda: kobo_percent(daemon.device, TIME_MACHINE) > 0, SYNC_SECONDS, "the push")
    wait_for(lambda: listed_books(daemon)[TIME_MACHINE] != after_pull[TIME_MACHINE], SYNC_SECONDS, "the row")
    after_push = assert_listing_is_fresh(daemon)
    assert after_push[TIME_MACHINE]["kobo"]["percent"] > 0


def test_a_book_deleted_from_nickel_leaves_the_listing(daemon: RunningDaemon) -> None:
    assert PRIDE in listed_books(daemon)
    with closing(sqlite3.connect(daemon.device / ".kobo" / "KoboReader.sqlite")) as db, db:
        db.execute("DELETE FROM content WHERE BookID = ? OR ContentID = ?", (PRIDE, PRIDE))
    wait_for(lambda: PRIDE not in listed_books(daemon), SYNC_SECONDS, "the book to leave the listing")
    assert_listing_is_fresh(daemon)


def test_a_new_koreader_folder_renews_the_listing(daemon: RunningDaemon, tmp_path: Path) -> None:
    """``settings.set`` changes what a plan reads: the remembered rows must not outlive it."""
    before = assert_listing_is_fresh(daemon)
    folder = tmp_path / "desktop-koreader"
    folder.mkdir()
    (folder / "settings.reader.lua").write_text('return {\n    ["document_metadata_folder"] = "dir",\n}\n')
    daemon.result("settings.set", {"koreader_dir": str(folder)})
    after = assert_listing_is_fresh(daemon)
    assert after != before
