"""``kksync sync`` on the demo library: exactly what a pull and a push write, and nothing else.

One sync runs per module; the tests compare what was on the device before with what is there after,
reading the database with sqlite3 (read-only), the sidecars as KOReader's Lua, and every file by hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    MAIN_BOOKS,
    MAIN_PULLS,
    MAIN_PUSHES,
    MOBY_ID,
    TIME_MACHINE_ID,
    Dump,
    by_book,
    content_cells,
    content_rows,
    database_dump,
    file_hashes,
    json_document,
    kksync,
    lua_number,
    lua_table,
    open_book,
    read_sidecar,
    sidecar_of,
)

# The keys a pull owns (sync-rules "Writing / Pull"); every other line of a sidecar must survive.
PULL_OWNED_LINE = re.compile(
    rb'^\s*\["(last_xpointer|percent_finished|last_percent|status|modified)"\] = [^\n]*\n', re.MULTILINE
)
PUSH_BOOK_COLUMNS = {
    "ChapterIDBookmarked",
    "___PercentRead",
    "ReadStatus",
    "DateLastRead",
    "FirstTimeReading",
    "ReadStateSynced",
}


@dataclass
class Synced:
    """The device, what was on it before the sync, the report, and what is on it after."""

    layout: DeviceLayout
    report: dict[str, Any]
    exit_code: int
    cells_before: dict[tuple[str, str], tuple[str, str]]
    cells_after: dict[tuple[str, str], tuple[str, str]]
    dump_before: Dump
    dump_after: Dump
    sidecars_before: dict[str, bytes]
    rows_before: dict[str, dict[str, Any]]

    def book(self, book_id: str) -> dict[str, Any]:
        return by_book(self.report)[book_id]


@pytest.fixture(scope="module")
def synced(main_device: CopyDevice) -> Synced:
    layout = main_device()
    sidecars = {}
    for book in MAIN_BOOKS:
        path = sidecar_of(layout, book.content_id)
        if path is not None:
            sidecars[book.content_id] = path.read_bytes()
    cells, dump, rows = (
        content_cells(layout.database),
        database_dump(layout.database),
        content_rows(layout.database),
    )
    result = kksync("sync", "--json", "--device", layout.root)
    return Synced(
        layout=layout,
        report=json_document(result),
        exit_code=result.returncode,
        cells_before=cells,
        cells_after=content_cells(layout.database),
        dump_before=dump,
        dump_after=database_dump(layout.database),
        sidecars_before=sidecars,
        rows_before=rows,
    )


def test_the_run_pulls_and_pushes_what_the_demo_promises(synced: Synced) -> None:
    assert synced.exit_code == 0
    report = synced.report
    assert report["summary"] == {"books": 6, "pulled": 2, "pushed": 2, "skipped": 2, "failed": 0}
    assert report["dry_run"] is False
    for book_id in (*MAIN_PULLS, *MAIN_PUSHES):
        book = synced.book(book_id)
        assert book["decision"] == ("PULL" if book_id in MAIN_PULLS else "PUSH")
        assert (book["reason"], book["scenario"], book["written"], book["error"]) == (
            None,
            "NEWER",
            True,
            None,
        )
        assert book["question"] is None and book["needs_confirmation"] is False
    moby, unread = synced.book(MOBY_ID), synced.book(TIME_MACHINE_ID)
    assert (moby["decision"], moby["reason"], moby["scenario"], moby["written"]) == (
        "SKIP",
        "POLICY_NEVER",
        "OLDER",
        False,
    )
    assert (unread["decision"], unread["reason"], unread["scenario"]) == ("SKIP", "NO_DATA", None)
    assert unread["koreader"] == {
        "percent": None,
        "status": "UNOPENED",
        "updated_at": None,
        "chapter": None,
        "xpointer": None,
    }


@pytest.mark.parametrize("book_id", MAIN_PULLS)
def test_a_pull_points_koreader_at_the_element_of_nickels_span(synced: Synced, book_id: str) -> None:
    layout, row = synced.layout, synced.rows_before[book_id]
    zip_path, span = row["ChapterIDBookmarked"].split("#")
    sidecar = sidecar_of(layout, book_id)
    assert sidecar is not None
    table = read_sidecar(sidecar)
    document = open_book(layout, book_id)
    target = document.locate(str(table["last_xpointer"]))
    assert target is not None and target.resolved
    assert document.spine[target.spine_index].zip_path == zip_path
    assert target.span == span
    # Kobo progress = chapter offset + chapter size x fraction of the span (sync-rules "Reading").
    chapter = synced.rows_before[_chapter_row_id(synced.rows_before, book_id, zip_path)]
    fraction = document.span_fraction(zip_path, span)
    assert fraction is not None
    expected = (chapter["___FileOffset"] + chapter["___FileSize"] * fraction) / 100
    assert table["percent_finished"] == pytest.approx(expected, abs=0.01)
    assert table["last_percent"] == table["percent_finished"]
    assert round(lua_number(table["percent_finished"]) * 100, 2) == synced.book(book_id)["kobo"]["percent"]
    summary = lua_table(table["summary"])
    assert summary["status"] == "reading"
    assert summary["modified"] == row["DateLastRead"][:10]


@pytest.mark.parametrize("book_id", MAIN_PULLS)
def test_a_pull_keeps_every_other_key_byte_for_byte_and_the_previous_file(
    synced: Synced, book_id: str
) -> None:
    sidecar = sidecar_of(synced.layout, book_id)
    assert sidecar is not None
    before, after = synced.sidecars_before[book_id], sidecar.read_bytes()
    assert before != after
    assert PULL_OWNED_LINE.sub(b"", after) == PULL_OWNED_LINE.sub(b"", before)
    highlight = lua_table(lua_table(read_sidecar(sidecar)["annotations"])[1])
    assert highlight["note"] == "Remember this line.\nSecond line of the note."
    old = sidecar.with_name(sidecar.name + ".old")
    assert old.read_bytes() == before


def _history_time(layout: DeviceLayout, book_id: str) -> datetime:
    history = read_sidecar(layout.koreader_dir / "history.lua")
    device_path = layout.book_device_path(book_id)
    entry = next(e for e in history.values() if isinstance(e, dict) and e["file"] == device_path)
    time = entry["time"]
    assert isinstance(time, int | float), f"history.lua has a time of {time!r}"
    return datetime.fromtimestamp(int(time), UTC)


def _chapter_row_id(rows: dict[str, dict[str, Any]], book_id: str, zip_path: str) -> str:
    """The ContentType 9 row ``<bookpart>!<opfdir>!<href>`` of one spine file."""
    for row in rows.values():
        if row["BookID"] == book_id and str(row["ContentType"]) == "9":
            _, opf_dir, href = row["ContentID"].rsplit("!", 2)
            if (f"{opf_dir}/{href}" if opf_dir else href) == zip_path:
                return str(row["ContentID"])
    raise AssertionError(f"{book_id}: no chapter row for {zip_path}")


@pytest.mark.parametrize("book_id", MAIN_PUSHES)
def test_a_push_writes_nickels_bookmark_at_koreaders_span_and_reading_time(
    synced: Synced, book_id: str
) -> None:
    layout = synced.layout
    sidecar = sidecar_of(layout, book_id)
    assert sidecar is not None
    document = open_book(layout, book_id)
    target = document.locate(str(read_sidecar(sidecar)["last_xpointer"]))
    assert target is not None and target.span is not None
    zip_path = document.spine[target.spine_index].zip_path
    row = content_rows(layout.database)[book_id]
    assert row["ChapterIDBookmarked"] == f"{zip_path}#{target.span}"
    assert row["ReadStateSynced"] == "false"
    assert row["FirstTimeReading"] == "false"
    assert row["DateLastRead"] == f"{_history_time(layout, book_id):%Y-%m-%dT%H:%M:%SZ}"
    assert row["ReadStatus"] == 1
    assert row["___PercentRead"] == round(synced.book(book_id)["koreader"]["percent"])
    chapter = content_rows(layout.database)[_chapter_row_id(synced.rows_before, book_id, zip_path)]
    assert chapter["___PercentRead"] == round(target.fraction * 100)


def test_a_push_changes_only_the_pushed_cells_and_no_other_table(synced: Synced) -> None:
    allowed = set()
    for book_id in MAIN_PUSHES:
        allowed |= {(book_id, column) for column in PUSH_BOOK_COLUMNS}
        bookmark = content_rows(synced.layout.database)[book_id]["ChapterIDBookmarked"]
        chapter_id = _chapter_row_id(synced.rows_before, book_id, bookmark.split("#")[0])
        allowed.add((chapter_id, "___PercentRead"))
    before, after = synced.cells_before, synced.cells_after
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert changed <= allowed
    assert {book for book, _ in changed} >= set(MAIN_PUSHES)
    others_before = {t: rows for t, rows in synced.dump_before.items() if t != "content"}
    assert others_before == {t: rows for t, rows in synced.dump_after.items() if t != "content"}


def test_the_push_made_a_verified_backup_of_the_database_as_it_was(synced: Synced) -> None:
    backup = Path(synced.report["backup"])
    assert backup.parent == synced.layout.kksync_dir / "backups"
    assert backup.is_file()
    assert database_dump(backup) == synced.dump_before


def test_books_left_alone_are_left_alone(synced: Synced) -> None:
    moby = sidecar_of(synced.layout, MOBY_ID)
    assert moby is not None and moby.read_bytes() == synced.sidecars_before[MOBY_ID]
    assert not moby.with_name(moby.name + ".old").exists()
    assert sidecar_of(synced.layout, TIME_MACHINE_ID) is None


def test_a_second_sync_writes_nothing_at_all(synced: Synced) -> None:
    before = file_hashes(synced.layout.root)
    report = json_document(kksync("sync", "--json", "--device", synced.layout.root))
    assert file_hashes(synced.layout.root) == before
    assert report["backup"] is None
    assert {b["book_id"]: b["reason"] for b in report["books"] if b["reason"] == "IN_SYNC"}.keys() == {
        *MAIN_PULLS,
        *MAIN_PUSHES,
    }
    assert not any(book["written"] for book in report["books"])
