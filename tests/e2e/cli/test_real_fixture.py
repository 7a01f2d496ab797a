"""``kksync sync`` on a real Nickel database (firmware 4.38) with book files generated for it.

Nickel has bookmarks in two of its 34 books and KOReader has never opened any: both are pulled, at
exactly Nickel's koboSpan. Every book without a file is skipped as not syncable, the PDF nobody
read has no data, nothing fails and the database is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    Dump,
    by_book,
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
from tests.e2e.cli.real_fixture import BOOKMARKED, PDF_ID, Bookmarked


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


def test_books_without_a_file_are_not_syncable_and_the_pdf_has_no_data(synced: Synced) -> None:
    bookmarked = {book.book_id for book in BOOKMARKED}
    for book in synced.report["books"]:
        if book["book_id"] in bookmarked:
            continue
        assert book["decision"] == "SKIP" and book["error"] is None
        if book["book_id"] == PDF_ID:
            assert (book["kind"], book["reason"]) == ("pdf", "NO_DATA")
        else:
            assert not synced.layout.book_host_path(book["book_id"]).exists()
            assert book["reason"] == "NOT_SYNCABLE", book["book_id"]
            assert sidecar_of(synced.layout, book["book_id"]) is None


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
