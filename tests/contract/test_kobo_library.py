"""The ``KoboLibrary`` contract, run against ``NickelLibrary`` on a generated device and the fake."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.kobo.library import NickelLibrary
from application.errors import KoboDatabaseError, KoboDatabaseLocked, ReadOnlyDatabase
from application.ports import KoboLibrary
from application.records import BookKind, BookSource, KoboWrite
from tests.fakes.kobo import FakeKoboLibrary
from tests.support.nickel import IDS, sample_device


@dataclass
class Harness:
    library: KoboLibrary
    locked: Callable[[], AbstractContextManager[None]]
    make_read_only: Callable[[], None]


def _nickel(tmp_path: Path) -> Iterator[Harness]:
    layout = sample_device(tmp_path / "device")
    library = NickelLibrary(layout, busy_timeout_seconds=0.2)

    @contextmanager
    def locked() -> Iterator[None]:
        holder = sqlite3.connect(layout.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    def make_read_only() -> None:
        layout.database.chmod(0o444)

    yield Harness(library, locked, make_read_only)
    library.close()
    layout.database.chmod(0o644)


def _fake(tmp_path: Path) -> Iterator[Harness]:
    seed = NickelLibrary(sample_device(tmp_path / "seed"))
    fake = FakeKoboLibrary(seed.books(), backup_dir=tmp_path / "backups")
    seed.close()

    @contextmanager
    def locked() -> Iterator[None]:
        fake.locked = True
        try:
            yield
        finally:
            fake.locked = False

    def make_read_only() -> None:
        fake.read_only = True

    yield Harness(fake, locked, make_read_only)


@pytest.fixture(params=["nickel", "fake"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    factory = _nickel if request.param == "nickel" else _fake
    yield from factory(tmp_path)


WHEN = datetime(2025, 6, 1, 12, 30, 45, 987654, tzinfo=timezone(timedelta(hours=2)))


def test_lists_every_book_with_its_source_and_kind(harness: Harness) -> None:
    books = {book.book_id: book for book in harness.library.books()}
    assert len(books) == 8
    assert books[IDS.komga].source is BookSource.KOMGA
    assert books[IDS.calibre_web].source is BookSource.CALIBRE_WEB
    assert books[IDS.store].source is BookSource.KOBO_STORE
    assert books[IDS.sideloaded].source is BookSource.SIDELOADED
    assert books[IDS.adobe].kind is BookKind.EPUB
    assert books[IDS.pdf].kind is BookKind.PDF


def test_one_book_matches_the_listing_and_unknown_books_are_none(harness: Harness) -> None:
    listed = {book.book_id: book for book in harness.library.books()}
    assert harness.library.book(IDS.sideloaded) == listed[IDS.sideloaded]
    assert harness.library.book("file:///mnt/onboard/not there.epub") is None


def test_a_write_reads_back_as_written(harness: Harness) -> None:
    book = harness.library.book(IDS.sideloaded)
    assert book is not None
    chapter = book.chapters[2]
    change = KoboWrite(
        percent_read=77,
        read_status=1,
        date_last_read=WHEN,
        bookmark=f"{chapter.zip_path}#kobo.3.1",
        chapter_content_id=chapter.content_id,
        chapter_percent_read=55,
    )
    harness.library.write(IDS.sideloaded, change)
    after = harness.library.book(IDS.sideloaded)
    assert after is not None
    assert (after.percent_read, after.read_status) == (77, 1)
    assert after.date_last_read == datetime(2025, 6, 1, 10, 30, 45, tzinfo=UTC)
    assert (after.bookmark.zip_path, after.bookmark.span) == (chapter.zip_path, "kobo.3.1")
    assert after.chapter(chapter.zip_path) is not None
    assert after.chapter(chapter.zip_path).percent_read == 55  # type: ignore[union-attr]
    assert [c.percent_read for c in after.chapters[:2]] == [c.percent_read for c in book.chapters[:2]]


def test_a_write_without_bookmark_keeps_the_stored_one(harness: Harness) -> None:
    before = harness.library.book(IDS.adobe)
    assert before is not None
    harness.library.write(IDS.adobe, KoboWrite(percent_read=50, read_status=1, date_last_read=WHEN))
    after = harness.library.book(IDS.adobe)
    assert after is not None
    assert after.bookmark == before.bookmark
    assert after.percent_read == 50


def test_writing_other_books_leaves_them_alone(harness: Harness) -> None:
    before = harness.library.book(IDS.komga)
    harness.library.write(IDS.calibre_web, KoboWrite(percent_read=9, read_status=1, date_last_read=WHEN))
    assert harness.library.book(IDS.komga) == before


def test_unknown_book_is_an_error(harness: Harness) -> None:
    with pytest.raises(KoboDatabaseError, match="nothing written"):
        harness.library.write("0000000000000", KoboWrite(percent_read=1, read_status=1, date_last_read=WHEN))


def test_a_chapter_of_another_book_writes_nothing(harness: Harness) -> None:
    other = harness.library.book(IDS.komga)
    assert other is not None
    before = harness.library.book(IDS.store)
    change = KoboWrite(
        percent_read=60,
        read_status=1,
        date_last_read=WHEN,
        chapter_content_id=other.chapters[1].content_id,
        chapter_percent_read=10,
    )
    with pytest.raises(KoboDatabaseError):
        harness.library.write(IDS.store, change)
    assert harness.library.book(IDS.store) == before
    assert harness.library.book(IDS.komga) == other


def test_a_locked_database_writes_nothing(harness: Harness) -> None:
    before = harness.library.book(IDS.komga)
    with harness.locked(), pytest.raises(KoboDatabaseLocked, match="locked"):
        harness.library.write(IDS.komga, KoboWrite(percent_read=99, read_status=2, date_last_read=WHEN))
    assert harness.library.book(IDS.komga) == before


def test_ensure_writable_passes_then_refuses_a_read_only_database(harness: Harness) -> None:
    harness.library.ensure_writable()
    harness.make_read_only()
    with pytest.raises(ReadOnlyDatabase):
        harness.library.ensure_writable()


def test_each_backup_is_a_new_file(harness: Harness) -> None:
    first = harness.library.backup()
    second = harness.library.backup()
    assert first != second
    assert first.is_file() and second.is_file()
