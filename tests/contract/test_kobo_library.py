"""The ``KoboLibrary`` contract, run against ``NickelLibrary`` and the fake on a generated device, and
against ``NickelLibrary`` on a private copy of the real firmware 4.38 database (with generated book files).

Each device names the books the cases act on (its ``Cast``): the generated device has one book of
every kind Nickel holds, the real one only store and sideloaded kepubs and a PDF.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.kobo.library import NickelLibrary
from application.errors import KoboDatabaseError, KoboDatabaseLocked, ReadOnlyDatabase
from application.ports import KoboLibrary
from application.records import BookKind, BookSource, KoboWrite
from tests.e2e.cli.real_fixture import ART_OF_WAR, PDF_ID, SEVEN_PRINCIPLES, build_real_fixture_device
from tests.fakes.kobo import FakeKoboLibrary
from tests.support.nickel import IDS, sample_device


@dataclass(frozen=True)
class Cast:
    """The books of one device that the contract cases act on, and what the listing says of some."""

    count: int
    listed: dict[str, tuple[BookSource, BookKind]]
    sideloaded: str  # a sideloaded kepub with at least three chapter rows
    bookmarked: str  # a book with a stored bookmark
    store: str  # a Kobo store kepub
    other: str  # a kepub with at least two chapter rows, not ``store``
    neighbour: str  # any book but ``other``


SAMPLE = Cast(
    count=8,
    listed={
        IDS.komga: (BookSource.KOMGA, BookKind.KEPUB),
        IDS.calibre_web: (BookSource.CALIBRE_WEB, BookKind.KEPUB),
        IDS.store: (BookSource.KOBO_STORE, BookKind.KEPUB),
        IDS.sideloaded: (BookSource.SIDELOADED, BookKind.KEPUB),
        IDS.adobe: (BookSource.SIDELOADED, BookKind.EPUB),
        IDS.pdf: (BookSource.SIDELOADED, BookKind.PDF),
    },
    sideloaded=IDS.sideloaded,
    bookmarked=IDS.adobe,
    store=IDS.store,
    other=IDS.komga,
    neighbour=IDS.calibre_web,
)
LOVE_PRESCRIPTION = "4a33da5b-1e53-4782-92ae-f78799a12bf8"  # store, bookmark "#", ReadStatus 0
NEVER_DOWNLOADED = "184542ff-f391-4972-a443-7cb90615105f"  # store, no chapter rows, no file
ARISTOTLE = "file:///mnt/onboard/Aristotle/Ethics of Aristotle, The - Aristotle.kepub.epub"
REAL = Cast(
    count=34,
    listed={
        SEVEN_PRINCIPLES.book_id: (BookSource.KOBO_STORE, BookKind.KEPUB),
        LOVE_PRESCRIPTION: (BookSource.KOBO_STORE, BookKind.KEPUB),
        NEVER_DOWNLOADED: (BookSource.KOBO_STORE, BookKind.KEPUB),
        ART_OF_WAR.book_id: (BookSource.SIDELOADED, BookKind.KEPUB),
        ARISTOTLE: (BookSource.SIDELOADED, BookKind.KEPUB),
        PDF_ID: (BookSource.SIDELOADED, BookKind.PDF),
    },
    sideloaded=ART_OF_WAR.book_id,
    bookmarked=SEVEN_PRINCIPLES.book_id,
    store=LOVE_PRESCRIPTION,
    other=SEVEN_PRINCIPLES.book_id,
    neighbour=ARISTOTLE,
)


@dataclass
class Harness:
    library: KoboLibrary
    locked: Callable[[], AbstractContextManager[None]]
    make_read_only: Callable[[], None]
    cast: Cast


def _nickel(tmp_path: Path) -> Iterator[Harness]:
    yield from _nickel_on(sample_device(tmp_path / "device"), SAMPLE)


def _real(tmp_path: Path, template: Path) -> Iterator[Harness]:
    device = tmp_path / "device"
    shutil.copytree(template, device)
    yield from _nickel_on(DeviceLayout(device), REAL)


def _nickel_on(layout: DeviceLayout, cast: Cast) -> Iterator[Harness]:
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

    yield Harness(library, locked, make_read_only, cast)
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

    yield Harness(fake, locked, make_read_only, SAMPLE)


@pytest.fixture(scope="module")
def real_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real fixture with its book files, built once; each test works on a copy."""
    return build_real_fixture_device(tmp_path_factory.mktemp("templates") / "real").root


@pytest.fixture(params=["nickel", "fake", "real fixture"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "real fixture":
        yield from _real(tmp_path, request.getfixturevalue("real_template"))
    else:
        yield from (_nickel if request.param == "nickel" else _fake)(tmp_path)


WHEN = datetime(2025, 6, 1, 12, 30, 45, 987654, tzinfo=timezone(timedelta(hours=2)))


def test_lists_every_book_with_its_source_and_kind(harness: Harness) -> None:
    books = {book.book_id: book for book in harness.library.books()}
    assert len(books) == harness.cast.count
    assert {book_id: (books[book_id].source, books[book_id].kind) for book_id in harness.cast.listed} == (
        harness.cast.listed
    )


def test_one_book_matches_the_listing_and_unknown_books_are_none(harness: Harness) -> None:
    listed = {book.book_id: book for book in harness.library.books()}
    assert harness.library.book(harness.cast.sideloaded) == listed[harness.cast.sideloaded]
    assert harness.library.book("file:///mnt/onboard/not there.epub") is None


def test_a_write_reads_back_as_written(harness: Harness) -> None:
    book_id = harness.cast.sideloaded
    book = harness.library.book(book_id)
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
    harness.library.write(book_id, change)
    after = harness.library.book(book_id)
    assert after is not None
    assert (after.percent_read, after.read_status) == (77, 1)
    assert after.date_last_read == datetime(2025, 6, 1, 10, 30, 45, tzinfo=UTC)
    assert (after.bookmark.zip_path, after.bookmark.span) == (chapter.zip_path, "kobo.3.1")
    chapter_after = after.chapter(chapter.zip_path)
    assert chapter_after is not None
    assert chapter_after.percent_read == 55
    assert [c.percent_read for c in after.chapters[:2]] == [c.percent_read for c in book.chapters[:2]]


def test_a_write_without_bookmark_keeps_the_stored_one(harness: Harness) -> None:
    book_id = harness.cast.bookmarked
    before = harness.library.book(book_id)
    assert before is not None and before.bookmark.raw
    harness.library.write(book_id, KoboWrite(percent_read=50, read_status=1, date_last_read=WHEN))
    after = harness.library.book(book_id)
    assert after is not None
    assert after.bookmark == before.bookmark
    assert after.percent_read == 50


def test_writing_other_books_leaves_them_alone(harness: Harness) -> None:
    cast = harness.cast
    before = harness.library.book(cast.other)
    harness.library.write(cast.neighbour, KoboWrite(percent_read=9, read_status=1, date_last_read=WHEN))
    assert harness.library.book(cast.other) == before


def test_unknown_book_is_an_error(harness: Harness) -> None:
    with pytest.raises(KoboDatabaseError, match="nothing written"):
        harness.library.write("0000000000000", KoboWrite(percent_read=1, read_status=1, date_last_read=WHEN))


def test_a_chapter_of_another_book_writes_nothing(harness: Harness) -> None:
    cast = harness.cast
    other = harness.library.book(cast.other)
    assert other is not None
    before = harness.library.book(cast.store)
    change = KoboWrite(
        percent_read=60,
        read_status=1,
        date_last_read=WHEN,
        chapter_content_id=other.chapters[1].content_id,
        chapter_percent_read=10,
    )
    with pytest.raises(KoboDatabaseError):
        harness.library.write(cast.store, change)
    assert harness.library.book(cast.store) == before
    assert harness.library.book(cast.other) == other


def test_a_locked_database_writes_nothing(harness: Harness) -> None:
    book_id = harness.cast.other
    before = harness.library.book(book_id)
    with harness.locked(), pytest.raises(KoboDatabaseLocked, match="locked"):
        harness.library.write(book_id, KoboWrite(percent_read=99, read_status=2, date_last_read=WHEN))
    assert harness.library.book(book_id) == before


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
