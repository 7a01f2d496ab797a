"""``kksync sync`` on a real Nickel database (firmware 4.38) with book files generated for it.

Nickel has bookmarks in two of its 34 books and KOReader has never opened any: both are pulled, at
exactly Nickel's koboSpan. Books nobody read have no data, the 9 store books Nickel never downloaded
are skipped as not syncable, nothing fails and the database is not touched.

Then the other way: KOReader has read five books further than Nickel (store and sideloaded kepubs,
one of them finished, and the PDF), and the sync pushes exactly the cells sync-rules "Writing / Push"
names into the real database, and nothing else.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.device import DeviceLayout
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    Dump,
    by_book,
    content_cells,
    content_rows,
    database_dump,
    file_hashes,
    lua_number,
    lua_table,
    open_book,
    read_sidecar,
    sidecar_of,
    sync_json,
)
from tests.e2e.cli.real_fixture import ART_OF_WAR, BOOKMARKED, PDF_ID, SEVEN_PRINCIPLES, Bookmarked
from tests.support.nickel import Cells, changed_cells


@dataclass
class Synced:
    layout: DeviceLayout
    dump_before: Dump
    dates_last_read: dict[str, str]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def synced(real_device: CopyDevice) -> Synced:
    layout = real_device()
    dump = database_dump(layout.database)
    rows = content_rows(layout.database)
    dates = {book.book_id: str(rows[book.book_id]["DateLastRead"]) for book in BOOKMARKED}
    return Synced(layout, dump, dates, sync_json(layout.root))


def test_the_two_bookmarked_books_are_pulled_and_nothing_fails(synced: Synced) -> None:
    assert synced.report["summary"] == {"books": 34, "pulled": 2, "pushed": 0, "skipped": 32, "failed": 0}
    books = by_book(synced.report)
    for bookmarked in BOOKMARKED:
        book = books[bookmarked.book_id]
        assert (book["decision"], book["written"], book["error"]) == ("PULL", True, None)
        assert book["kobo"]["chapter"] == bookmarked.zip_path
        assert book["kobo"]["span"] == bookmarked.span
        assert book["koreader"]["status"] == "UNOPENED"  # no sidecar before this run


@pytest.mark.parametrize("bookmarked", BOOKMARKED, ids=["store book", "sideloaded"])
def test_the_new_sidecar_opens_koreader_at_nickels_span(synced: Synced, bookmarked: Bookmarked) -> None:
    layout = synced.layout
    sidecar = sidecar_of(layout, bookmarked.book_id)
    assert sidecar is not None
    table = read_sidecar(sidecar)
    document = open_book(layout, bookmarked.book_id)
    target = document.locate(str(table["last_xpointer"]))
    assert target is not None and target.resolved
    assert document.spine[target.spine_index].zip_path == bookmarked.zip_path
    assert target.span == bookmarked.span
    kobo_percent = by_book(synced.report)[bookmarked.book_id]["kobo"]["percent"]
    assert round(lua_number(table["percent_finished"]) * 100, 2) == kobo_percent
    summary = lua_table(table["summary"])
    assert summary["status"] == "reading"
    assert summary["modified"] == synced.dates_last_read[bookmarked.book_id][:10]
    assert table["cre_dom_version"] == 20240114
    assert table["doc_path"] == layout.book_device_path(bookmarked.book_id)


def test_unread_books_have_no_data_and_books_never_downloaded_are_not_syncable(synced: Synced) -> None:
    bookmarked = {book.book_id for book in BOOKMARKED}
    reasons: Counter[str] = Counter()
    for book in synced.report["books"]:
        if book["book_id"] in bookmarked:
            continue
        assert book["decision"] == "SKIP" and book["error"] is None
        assert sidecar_of(synced.layout, book["book_id"]) is None
        if synced.layout.book_host_path(book["book_id"]).exists():
            assert book["reason"] == "NO_DATA", book["book_id"]
        else:
            assert (book["kind"], book["reason"]) == ("kepub", "NOT_SYNCABLE"), book["book_id"]
        reasons[book["reason"]] += 1
    assert by_book(synced.report)[PDF_ID]["kind"] == "pdf"
    assert reasons == {"NO_DATA": 23, "NOT_SYNCABLE": 9}  # 22 kepubs and the PDF; 9 never downloaded


def test_pulls_leave_the_database_and_its_backups_alone(synced: Synced) -> None:
    assert database_dump(synced.layout.database) == synced.dump_before
    assert synced.report["backup"] is None
    assert not (synced.layout.kksync_dir / "backups").exists()


def test_a_second_sync_writes_nothing_at_all(synced: Synced) -> None:
    before = file_hashes(synced.layout.root, include_backups=True)
    report = sync_json(synced.layout.root)
    assert file_hashes(synced.layout.root, include_backups=True) == before
    assert report["summary"]["pulled"] == 0 and report["summary"]["failed"] == 0
    assert {b["reason"] for b in report["books"] if b["book_id"] in {x.book_id for x in BOOKMARKED}} == {
        "IN_SYNC"
    }


# -- pushing KOReader's progress into the real database -----------------------------------------------


@dataclass(frozen=True)
class ReadInKOReader:
    """A book read further in KOReader than in Nickel, and what the push must leave in Nickel's rows.

    Every generated chapter (but the two Nickel has a bookmark in) is its href as a heading, then three
    paragraphs of 80 characters (sentences of 44, 28 and 8), so the fraction of a chapter before a
    KOReader position is plain arithmetic; the book percent is the chapter row's ``___FileOffset`` +
    ``___FileSize`` x that fraction. ``bookmark`` None: the row's bookmark must stay as it was (the PDF).
    """

    name: str
    book_id: str
    xpointer: str | None
    percent_finished: float
    status: str
    read_at: datetime
    bookmark: str | None
    percent: int
    read_status: int
    chapter_percent: int | None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


LOVE_PRESCRIPTION = "4a33da5b-1e53-4782-92ae-f78799a12bf8"
LYING = "file:///mnt/onboard/Harris, Sam/Lying - Sam Harris.kepub.epub"
READ_IN_KOREADER = (
    # Store book, Nickel at 23 % (2024-09-01). Heading 23 chars: (23 + 80 + 44 + 12) / 263 = 60.5 % of
    # the chapter; 55 + 13.716 x 0.605 = 63.3 %.
    ReadInKOReader(
        "store book Nickel read", SEVEN_PRINCIPLES.book_id,
        "/body/DocFragment[16]/body/div/div/p[2]/span[2]/text().12", 0.6331, "reading",
        _at("2025-03-01T21:14:37"), "OEBPS/Text/16_Chapter09.xhtml#kobo.3.2", 63, 1, 60,
    ),
    # Sideloaded, Nickel at 2 % (2025-02-04). Heading 36 chars: (36 + 160 + 20) / 276 = 78.3 %;
    # 30 + 13 x 0.783 = 40.2 %.
    ReadInKOReader(
        "sideloaded book Nickel read", ART_OF_WAR.book_id,
        "/body/DocFragment[26]/body/div/div/p[3]/span[1]/text().20", 0.4017, "reading",
        _at("2025-03-02T07:05:09"), "epub/text/endnotes-1_split_000.xhtml#kobo.4.1", 40, 1, 78,
    ),
    # Store book Nickel never opened, bookmark "#". Heading 33 chars: (33 + 44 + 3) / 273 = 29.3 %;
    # 11 + 6.978 x 0.293 = 13.0 %.
    ReadInKOReader(
        "store book only KOReader read", LOVE_PRESCRIPTION,
        "/body/DocFragment[10]/body/div/div/p[1]/span[2]/text().3", 0.1304, "reading",
        _at("2025-03-03T12:00:59"), "OEBPS/xhtml/10_Day_1_Make_Contact.xhtml#kobo.2.2", 13, 1, 29,
    ),
    # Sideloaded, finished in KOReader. Heading 16 chars: (16 + 160 + 72 + 2) / 256 = 97.7 %; finished
    # books are 100 % whatever the position.
    ReadInKOReader(
        "sideloaded book finished in KOReader", LYING,
        "/body/DocFragment[13]/body/div/div/p[3]/span[3]/text().2", 0.9684, "complete",
        _at("2025-03-04T23:59:01"), "OEBPS/Notes.html#kobo.4.3", 100, 2, 98,
    ),
    # PDF, page 2 of 4: percent and status only, its bookmark (NULL) left alone.
    ReadInKOReader(
        "pdf", PDF_ID, None, 0.5, "reading", _at("2025-03-05T06:30:00"), None, 50, 1, None,
    ),
)  # fmt: skip


def _sidecar_path(layout: DeviceLayout, book_id: str) -> tuple[Path, str]:
    """Where KOReader running on the Kobo keeps the book's sidecar (doc mode), and its header path.

    ``<path up to the last dot>.sdr/metadata.<suffix>.lua``; Nickel's extension-less store kepubs
    are ``<file>.sdr/metadata.epub.lua`` (the kobo.koplugin convention).
    """
    device_path = layout.book_device_path(book_id)
    if book_id.startswith("file://"):
        stem, suffix = device_path.rsplit(".", 1)
        device_sidecar = f"{stem}.sdr/metadata.{suffix}.lua"
    else:
        device_sidecar = f"{device_path}.sdr/metadata.epub.lua"
    host = layout.to_host(device_sidecar)
    assert host is not None
    return host, device_sidecar


def _read_in_koreader(layout: DeviceLayout, books: tuple[ReadInKOReader, ...]) -> None:
    """Sidecars and ``history.lua`` as KOReader leaves them after reading ``books``."""
    history: LuaTable = {}
    for number, book in enumerate(sorted(books, key=lambda b: b.read_at, reverse=True), start=1):
        device_path = layout.book_device_path(book.book_id)
        table: LuaTable = {
            "cre_dom_version": 20240114,
            "doc_path": device_path,
            "percent_finished": book.percent_finished,
            "summary": {"modified": book.read_at.date().isoformat(), "status": book.status},
        }
        if book.xpointer is not None:
            table["last_xpointer"] = book.xpointer
        else:
            table |= {"doc_pages": 4, "last_page": 2}
        sidecar, header = _sidecar_path(layout, book.book_id)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        sidecar.write_bytes(render_settings_file(table, header))
        os.utime(sidecar, (book.read_at.timestamp(), book.read_at.timestamp()))
        history[number] = {"file": device_path, "time": int(book.read_at.timestamp())}
    path = layout.koreader_dir / "history.lua"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_settings_file(history, "./history.lua"))


def _chapter_row(rows: dict[str, dict[str, Any]], book_id: str, zip_path: str) -> str:
    """The ContentID of the ContentType 9 row ``<bookpart>!<opfdir>!<href>`` of one spine file."""
    for content_id, row in rows.items():
        if row["BookID"] == book_id and str(row["ContentType"]) == "9":
            _, opf_dir, href = content_id.rsplit("!", 2)
            if (f"{opf_dir}/{href}" if opf_dir else href) == zip_path:
                return content_id
    raise AssertionError(f"{book_id}: no chapter row for {zip_path}")


def _expected_cells(rows: dict[str, dict[str, Any]], book: ReadInKOReader) -> Cells:
    """The cells of the book (and its current chapter) as sync-rules "Writing / Push" wants them."""
    cells: Cells = {
        (book.book_id, "___PercentRead"): ("integer", str(book.percent)),
        (book.book_id, "ReadStatus"): ("integer", str(book.read_status)),
        (book.book_id, "DateLastRead"): ("text", f"'{book.read_at:%Y-%m-%dT%H:%M:%SZ}'"),
        (book.book_id, "FirstTimeReading"): ("text", "'false'"),
        (book.book_id, "ReadStateSynced"): ("text", "'false'"),
    }
    if book.bookmark is not None:
        cells[(book.book_id, "ChapterIDBookmarked")] = ("text", f"'{book.bookmark}'")
        chapter = _chapter_row(rows, book.book_id, book.bookmark.split("#")[0])
        cells[(chapter, "___PercentRead")] = ("integer", str(book.chapter_percent))
    return cells


@dataclass
class Pushed:
    layout: DeviceLayout
    rows_before: dict[str, dict[str, Any]]
    cells_before: Cells
    cells_after: Cells
    dump_before: Dump
    dump_after: Dump
    report: dict[str, Any]


@pytest.fixture(scope="module")
def pushed(real_device: CopyDevice) -> Pushed:
    layout = real_device()
    _read_in_koreader(layout, READ_IN_KOREADER)
    rows, cells, dump = (
        content_rows(layout.database),
        content_cells(layout.database),
        database_dump(layout.database),
    )
    report = sync_json(layout.root)
    return Pushed(
        layout, rows, cells, content_cells(layout.database), dump, database_dump(layout.database), report
    )


def test_koreaders_newer_progress_is_pushed_and_nothing_fails(pushed: Pushed) -> None:
    assert pushed.report["summary"] == {"books": 34, "pulled": 0, "pushed": 5, "skipped": 29, "failed": 0}
    books = by_book(pushed.report)
    for book in READ_IN_KOREADER:
        entry = books[book.book_id]
        assert (entry["decision"], entry["scenario"], entry["written"], entry["error"]) == (
            "PUSH",
            "NEWER",
            True,
            None,
        ), book.name
    assert database_dump(Path(pushed.report["backup"])) == pushed.dump_before


@pytest.mark.parametrize("book", READ_IN_KOREADER, ids=[book.name for book in READ_IN_KOREADER])
def test_a_push_writes_the_cells_sync_rules_name(pushed: Pushed, book: ReadInKOReader) -> None:
    expected = _expected_cells(pushed.rows_before, book)
    assert {key: pushed.cells_after[key] for key in expected} == expected
    bookmark = (book.book_id, "ChapterIDBookmarked")
    if book.bookmark is None:
        assert pushed.cells_after[bookmark] == pushed.cells_before[bookmark]


def test_a_push_changes_no_other_cell_and_no_other_table(pushed: Pushed) -> None:
    expected: Cells = {}
    for book in READ_IN_KOREADER:
        expected |= _expected_cells(pushed.rows_before, book)
    changed = changed_cells(pushed.cells_before, pushed.cells_after)
    assert changed == {key: value for key, value in expected.items() if pushed.cells_before[key] != value}
    assert {book_id for book_id, _ in changed} >= {book.book_id for book in READ_IN_KOREADER}
    others_before = {t: rows for t, rows in pushed.dump_before.items() if t != "content"}
    assert others_before == {t: rows for t, rows in pushed.dump_after.items() if t != "content"}


def test_a_second_sync_after_the_push_writes_nothing_at_all(pushed: Pushed) -> None:
    before = file_hashes(pushed.layout.root, include_backups=True)
    report = sync_json(pushed.layout.root)
    assert file_hashes(pushed.layout.root, include_backups=True) == before
    assert report["backup"] is None and not any(book["written"] for book in report["books"])
    books = by_book(report)
    reasons = {book.book_id: books[book.book_id]["reason"] for book in READ_IN_KOREADER}
    assert reasons == {book.book_id: "IN_SYNC" for book in READ_IN_KOREADER} | {LYING: "BOTH_FINISHED"}
