"""``library.list`` from memory: the rows of the last whole-library report, kept up to date.

A fresh plan of 2,000 books takes seconds; the plugin asks for the list every time its library
opens. So the daemon keeps the rows a fresh plan would give: filled by the start-up sync (or the
first ``library.list`` / whole ``sync.run``), then only the books the change detector or a sync
names are planned again, on the service worker, right after they were synced. Answering reads
neither the database nor any file, and never waits for the worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from adapters.device import DeviceLayout
from adapters.kobo.covers import cover_path
from application.errors import KksyncError
from application.records import KoboBook
from application.reports import BookReport, RunReport
from application.service import SyncService
from entrypoints.daemon.rpc_protocol import EncodedJson, compact_json
from entrypoints.presenters import library_book_json

Row = dict[str, Any]


class LibraryMemory:
    """Book id -> ``library.list`` row; empty (``None``) until a whole-library report came in."""

    def __init__(self, layout: Callable[[], DeviceLayout]) -> None:
        self.layout = layout
        """The device's layout, asked for each time: a settings change may rebuild the container."""
        self._rows: dict[str, bytes] | None = None
        """Each row encoded as compact JSON: ~0.6 KB a book, where the dicts took ~3 KB."""
        self._lock = threading.Lock()

    def listing(self) -> EncodedJson | None:
        """The ``library.list`` result, or None before the first whole-library report."""
        with self._lock:
            if self._rows is None:
                return None
            rows = [self._rows[book_id] for book_id in sorted(self._rows)]
        return EncodedJson(b'{"books":[' + b",".join(rows) + b"]}")

    def fill(self, service: SyncService, books: list[KoboBook], report: RunReport) -> None:
        """Remember every book from a whole-library report; written books are planned again,
        since a sync's report shows the positions read before its write."""
        rows = _encoded_rows(self.layout(), books, report.books)
        written = [r.book_id for r in report.books if r.written]
        with self._lock:
            self._rows = rows
        self.refresh(service, written)

    def refresh(self, service: SyncService, book_ids: Iterable[str]) -> None:
        """Plan these books again (on the worker) and replace their rows; vanished books are dropped."""
        wanted = sorted(set(book_ids))
        if self._rows is None or not wanted:
            return
        found = [book for book_id in wanted if (book := service.kobo.book(book_id)) is not None]
        try:
            reports = service.plan([book.book_id for book in found]).books if found else ()
        except KksyncError:  # a book vanished between the two reads: the next change sees it
            reports = ()
            found = []
        rows = _encoded_rows(self.layout(), found, reports)
        with self._lock:
            if self._rows is None:
                return
            for book_id in wanted:
                self._rows.pop(book_id, None)
            self._rows.update(rows)

    def forget_all(self) -> None:
        """Settings changed what a plan reads: answer from a fresh plan until the next whole report."""
        with self._lock:
            self._rows = None

    def forget(self, book_ids: Iterable[str]) -> None:
        """Books no longer in Nickel's database."""
        with self._lock:
            if self._rows is not None:
                for book_id in book_ids:
                    self._rows.pop(book_id, None)


def library_rows(
    layout: DeviceLayout, books: Iterable[KoboBook], reports: Iterable[BookReport]
) -> dict[str, Row]:
    """``library.list`` rows by book id: the book, both sides' positions from its report, its cover."""
    return dict(_made_rows(layout, books, reports))


def _encoded_rows(
    layout: DeviceLayout, books: Iterable[KoboBook], reports: Iterable[BookReport]
) -> dict[str, bytes]:
    """The rows encoded one by one: thousands of them never exist as dicts at once."""
    return {book_id: compact_json(row) for book_id, row in _made_rows(layout, books, reports)}


def _made_rows(
    layout: DeviceLayout, books: Iterable[KoboBook], reports: Iterable[BookReport]
) -> Iterator[tuple[str, Row]]:
    by_id = {report.book_id: report for report in reports}
    for book in books:
        report = by_id.get(book.book_id)
        kobo, koreader = (report.kobo, report.koreader) if report else (None, None)
        row = library_book_json(book, kobo, koreader)
        if koreader is None:  # no sidecar: docs/rpc.md promises null, not an empty side
            row["koreader"] = None
        row["cover"] = cover_path(layout, book)
        yield book.book_id, row
