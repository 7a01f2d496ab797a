"""The no-op shortcut on real files: an unchanged book is neither parsed nor opened, and any
change at all — even one that keeps a sidecar's size, inode and mtime — takes the full path;
a Kobo mounted again (FAT renumbers every inode) is still unchanged."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.device import DeviceLayout, device_id
from adapters.epub.archive import BookArchive
from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.ledger.sql_ledger import SqlLedger
from application.reports import RunReport
from application.service import NobodyToAsk, SyncService
from application.settings import Settings
from entrypoints.container import build_container
from entrypoints.demo.run import build_demo_device

AN_HOUR_NS = 3600 * 1_000_000_000
XPOINTER = re.compile(rb'\["last_xpointer"\] = "[^"]*?/p\[(\d)\]')


class Reads:
    """Counts what a run parses and opens: sidecars through the Lua sandbox, zips of books."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sidecars: list[Path] = []
        self.zips: list[Path] = []
        load_file = LuaSandbox.load_file
        archive_init = BookArchive.__init__

        def counting_load(sandbox: LuaSandbox, path: Path, **options: Any) -> Any:
            if path.parent.name.endswith(".sdr"):
                self.sidecars.append(path)
            return load_file(sandbox, path, **options)

        def counting_archive(archive: BookArchive, path: Path, max_entry_bytes: int) -> None:
            self.zips.append(path)
            archive_init(archive, path, max_entry_bytes)

        monkeypatch.setattr(LuaSandbox, "load_file", counting_load)
        monkeypatch.setattr(BookArchive, "__init__", counting_archive)

    def reset(self) -> None:
        self.sidecars.clear()
        self.zips.clear()


@pytest.fixture
def device(tmp_path: Path) -> DeviceLayout:
    """The demo Kobo with every file dated an hour back, as a device at rest is."""
    layout = build_demo_device(tmp_path / "kobo")
    _age(layout.root)
    return layout


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    yield Reads(monkeypatch)


T = TypeVar("T")


def run(layout: DeviceLayout, work: Callable[[SyncService], T]) -> T:
    container = build_container(layout.root, Settings())
    try:
        return work(container.service())
    finally:
        container.kobo_library().close()
        container.ledger().close()


def sync(layout: DeviceLayout) -> RunReport:
    return run(layout, lambda service: service.sync_all(NobodyToAsk()))


def plan(layout: DeviceLayout) -> RunReport:
    return run(layout, lambda service: service.plan())


def test_a_run_after_a_sync_parses_no_sidecar_and_opens_no_book(device: DeviceLayout, reads: Reads) -> None:
    sync(device)
    assert reads.sidecars and reads.zips  # the first run reads everything
    sync(device)  # nothing to do: writes nothing
    reads.reset()
    again = plan(device)
    assert reads.sidecars == [] and reads.zips == []
    assert _positions(again) == _positions(plan_without_ledger(device))


def test_a_sidecar_rewritten_with_the_same_size_inode_and_mtime_is_noticed(
    device: DeviceLayout, reads: Reads
) -> None:
    sync(device)
    sync(device)
    sidecar, paragraph = _a_sidecar_with_xpointer(device.root)
    book_id = _book_id_of(device, sidecar)
    old = _report_of(plan(device), book_id).koreader
    _rewrite_in_place(sidecar, paragraph)  # KOReader's position moves to another paragraph
    reads.reset()
    after = plan(device)
    assert set(reads.sidecars) == {
        sidecar
    }  # that book took the full path (progress, then highlights), no other
    new = _report_of(after, book_id).koreader
    assert old is not None and new is not None and new.progress != old.progress
    assert _positions(after) == _positions(plan_without_ledger(device))


class _Renumbered:
    """A ``stat`` result as after the Kobo was mounted again: same file, another inode number."""

    def __init__(self, found: os.stat_result) -> None:
        self._found = found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._found, name)

    @property
    def st_ino(self) -> int:
        return self._found.st_ino + 7_000_000


class _RemountedOs:
    """The ``os`` module as the stamp and fingerprint code sees it after a remount."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        return _Renumbered(os.stat(path, *args, **kwargs))

    @staticmethod
    def fstat(descriptor: int) -> Any:
        return _Renumbered(os.fstat(descriptor))


def test_a_kobo_mounted_again_with_every_inode_renumbered_is_still_unchanged(
    device: DeviceLayout, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters import file_stamp
    from adapters.koreader import library

    sync(device)
    sync(device)
    monkeypatch.setattr(file_stamp, "os", _RemountedOs())
    monkeypatch.setattr(library, "os", _RemountedOs())
    reads.reset()
    again = plan(device)
    assert reads.sidecars == [] and reads.zips == []  # nothing read again for a new inode number
    assert _positions(again) == _positions(plan_without_ledger(device))


def test_a_changed_nickel_row_takes_the_full_path(device: DeviceLayout, reads: Reads) -> None:
    report = sync(device)
    sync(device)
    book = next(b for b in report.books if b.kobo is not None and b.koreader is not None)
    with closing(sqlite3.connect(device.database)) as db, db:
        db.execute(
            "UPDATE content SET ___PercentRead = 3, ChapterIDBookmarked = NULL WHERE ContentID = ?",
            (book.book_id,),
        )
    reads.reset()
    after = plan(device)
    kobo = _report_of(after, book.book_id).kobo
    assert kobo is not None and kobo.progress == pytest.approx(0.03)
    assert len(set(reads.sidecars)) <= 1  # that one book, no other
    assert _positions(after) == _positions(plan_without_ledger(device))


def test_a_ledger_from_before_the_seen_table_keeps_working(device: DeviceLayout, reads: Reads) -> None:
    sync(device)
    ledger_file = device.kksync_dir / "ledger.sqlite"
    agreed = SqlLedger(ledger_file, device_id(device.root)).all()
    assert agreed  # the demo's first sync agreed on books: the comparisons below can fail
    with closing(sqlite3.connect(ledger_file)) as db, db:
        db.execute("DROP TABLE seen_book")  # the schema older versions wrote
    untouched = ledger_file.read_bytes()
    reads.reset()
    plan(device)
    assert ledger_file.read_bytes() == untouched  # reading never migrates
    assert reads.sidecars  # no fingerprints yet: the full path
    sync(device)  # nothing to transfer, but what it saw is stored: the table is added
    assert ledger_file.read_bytes() != untouched
    assert SqlLedger(ledger_file, device_id(device.root)).all() == agreed  # the agreements as they were
    stored = ledger_file.read_bytes()
    sync(device)  # nothing new at all: nothing written
    assert ledger_file.read_bytes() == stored
    reads.reset()
    plan(device)
    assert reads.sidecars == []


def test_a_book_whose_inputs_moved_with_nothing_to_sync_is_seen_again_after_one_sync(
    device: DeviceLayout, reads: Reads
) -> None:
    """KOReader re-saving a sidecar without moving (view settings, statistics) costs one full read."""
    sync(device)
    sidecar, _ = _a_sidecar_with_xpointer(device.root)
    with sidecar.open("a", encoding="utf-8") as text:
        text.write("-- saved again by KOReader\n")
    reads.reset()
    report = sync(device)
    assert set(reads.sidecars) == {sidecar}  # that book is read in full, once, and nothing is written
    assert not any(book.written for book in report.books)
    reads.reset()
    plan(device)
    assert reads.sidecars == []


def _a_book_with_both_sides(report: RunReport) -> str:
    return next(b.book_id for b in report.books if b.kobo is not None and b.koreader is not None)


def _read_further_in_nickel(layout: DeviceLayout, book_id: str) -> None:
    with closing(sqlite3.connect(layout.database)) as db, db:
        db.execute(
            "UPDATE content SET ___PercentRead = 97, ReadStatus = 1, ChapterIDBookmarked = NULL,"
            " DateLastRead = '2026-12-01T10:00:00Z' WHERE ContentID = ?",
            (book_id,),
        )


def plan_without_ledger(layout: DeviceLayout) -> RunReport:
    """The same plan read the long way: with the seen entries gone, every book takes the full path."""
    ledger_file = layout.kksync_dir / "ledger.sqlite"
    saved = ledger_file.read_bytes()
    with closing(sqlite3.connect(ledger_file)) as db, db:
        db.execute("DELETE FROM seen_book")
    try:
        return plan(layout)
    finally:
        ledger_file.write_bytes(saved)


def _positions(report: RunReport) -> list[tuple[object, ...]]:
    return [(b.book_id, b.kobo, b.koreader, b.decision, b.notes, b.error) for b in report.books]


def _report_of(report: RunReport, book_id: str) -> Any:
    return next(b for b in report.books if b.book_id == book_id)


def _book_id_of(layout: DeviceLayout, sidecar: Path) -> str:
    container = build_container(layout.root, Settings())
    try:
        koreader = container.koreader_library()
        return next(
            book.book_id
            for book in container.kobo_library().books()
            if sidecar in koreader.sidecar_candidates(book.file_path)
        )
    finally:
        container.kobo_library().close()


def _age(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            found = path.stat()
            os.utime(path, ns=(found.st_atime_ns, found.st_mtime_ns - AN_HOUR_NS))


def _a_sidecar_with_xpointer(root: Path) -> tuple[Path, re.Match[bytes]]:
    for path in sorted(root.rglob("metadata.*.lua")):
        match = XPOINTER.search(path.read_bytes())
        if match:
            return path, match
    raise AssertionError("the demo device has no sidecar with a paragraph xpointer")


def _rewrite_in_place(path: Path, paragraph: re.Match[bytes]) -> None:
    """Point the xpointer at another paragraph (same length), in place, and put the mtime back."""
    found = path.stat()
    content = bytearray(path.read_bytes())
    content[paragraph.start(1)] = ord("1") if paragraph.group(1) != b"1" else ord("2")
    with path.open("r+b") as stream:
        stream.write(content)
    os.utime(path, ns=(found.st_atime_ns, found.st_mtime_ns))
    after = path.stat()
    kept = (after.st_size, after.st_mtime_ns, after.st_ino)
    assert kept == (found.st_size, found.st_mtime_ns, found.st_ino)


def test_the_demo_kobo_is_remembered_whole_by_its_first_sync(tmp_path: Path) -> None:
    """Its books are dated as delivered earlier, so the first sync stores every book as seen and
    the demo's second sync has nothing to write however slowly it runs (emulated ARM: seconds)."""
    layout = build_demo_device(tmp_path / "kobo")
    report = sync(layout)
    seen = run(layout, lambda service: service.ledger.seen())
    assert report.books and {book.book_id for book in report.books} == set(seen)
