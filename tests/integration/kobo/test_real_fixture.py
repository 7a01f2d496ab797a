"""NickelLibrary on a copy of a real firmware 4.38 database (34 books: store, sideloaded, a PDF)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.kobo.library import NickelLibrary
from application.records import BookKind, BookSource, FileState, KoboWrite
from domain.status import ReadingStatus, status_from_kobo
from tests.support.nickel import changed_cells, content_cells, device_with_real_fixture, schema_dump

SEVEN_PRINCIPLES = "c00698f0-3836-4428-b0fc-48354822fa80"
ART_OF_WAR = "file:///mnt/onboard/Sun Tzu/Art of War, The - Sun Tzu.kepub.epub"
PDF = "file:///mnt/onboard/Unknown - Unknown.pdf"
CHAPTER_3 = "/mnt/onboard/Sun Tzu/Art of War, The - Sun Tzu.kepub.epub!!epub/text/chapter-3.xhtml"


@pytest.fixture
def library(tmp_path: Path) -> Iterator[NickelLibrary]:
    nickel = NickelLibrary(device_with_real_fixture(tmp_path))
    yield nickel
    nickel.close()


def test_all_34_books_with_source_and_kind(library: NickelLibrary) -> None:
    books = library.books()
    assert len(books) == 34
    assert Counter(book.source for book in books) == {BookSource.KOBO_STORE: 20, BookSource.SIDELOADED: 14}
    assert Counter(book.kind for book in books) == {BookKind.KEPUB: 33, BookKind.PDF: 1}
    assert all(book.file_state is FileState.MISSING for book in books)  # the fixture ships no book files


# Book by book, as the fixture holds them (ContentID, EntitlementId, MimeType, Title, ReadStatus).
SOME_BOOKS = [
    pytest.param(
        SEVEN_PRINCIPLES, BookSource.KOBO_STORE, BookKind.KEPUB,
        "The Seven Principles For Making Marriage Work", ReadingStatus.READING, id="store, reading",
    ),
    pytest.param(
        "4a33da5b-1e53-4782-92ae-f78799a12bf8", BookSource.KOBO_STORE, BookKind.KEPUB,
        "The Love Prescription", ReadingStatus.UNOPENED, id="store, opened once, ReadStatus 0",
    ),
    pytest.param(
        "184542ff-f391-4972-a443-7cb90615105f", BookSource.KOBO_STORE, BookKind.KEPUB,
        "Trauma: The Invisible Epidemic", ReadingStatus.UNOPENED, id="store, never downloaded",
    ),
    pytest.param(
        ART_OF_WAR, BookSource.SIDELOADED, BookKind.KEPUB, "The Art of War", ReadingStatus.READING,
        id="sideloaded, reading",
    ),
    pytest.param(
        "file:///mnt/onboard/Ahrens, Sonke/How to Take Smart Notes. One Simple Technique to Boost Writing, "
        "Learning and Thinking - Sonke Ahrens.kepub.epub",
        BookSource.SIDELOADED, BookKind.KEPUB,
        "How to Take Smart Notes. One Simple Technique to Boost Writing, Learning and Thinking",
        ReadingStatus.UNOPENED, id="sideloaded, unread",
    ),
    pytest.param(
        PDF, BookSource.SIDELOADED, BookKind.PDF, "The Myth of Academic Excellence and Scientific Curiosity",
        ReadingStatus.UNOPENED, id="pdf",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("book_id", "source", "kind", "title", "status"), SOME_BOOKS)
def test_book_by_book_source_kind_title_and_reading_status(
    library: NickelLibrary,
    book_id: str,
    source: BookSource,
    kind: BookKind,
    title: str,
    status: ReadingStatus,
) -> None:
    book = library.book(book_id)
    assert book is not None
    assert (book.source, book.kind, book.title) == (source, kind, title)
    assert status_from_kobo(book.read_status) is status


def test_seven_principles_reading_state_and_chapters(library: NickelLibrary) -> None:
    book = library.book(SEVEN_PRINCIPLES)
    assert book is not None
    assert (book.title, book.author) == ("The Seven Principles For Making Marriage Work", "John Gottman")
    assert (book.read_status, book.percent_read) == (1, 23)
    assert book.date_last_read == datetime(2024, 9, 1, 20, 55, 40, tzinfo=UTC)
    assert book.bookmark.zip_path == "OEBPS/Text/12_Chapter05.xhtml"
    assert book.bookmark.span == "kobo.115.1"
    assert [chapter.volume_index for chapter in book.chapters] == list(range(23))
    assert book.chapters[0].zip_path == "OEBPS/Text/00_Cover.xhtml"
    assert book.chapters[21].zip_path == "OEBPS/Text/01_Also.xhtml"  # spine order, not name order
    current = book.chapter("OEBPS/Text/12_Chapter05.xhtml")
    assert current is not None
    assert (current.volume_index, current.offset) == (11, 23.0)
    assert current.size == pytest.approx(6.8143558)
    assert sum(chapter.size for chapter in book.chapters) == pytest.approx(100.0, abs=0.01)


def test_sideloaded_art_of_war(library: NickelLibrary) -> None:
    book = library.book(ART_OF_WAR)
    assert book is not None
    assert book.source is BookSource.SIDELOADED
    assert book.device_path == "/mnt/onboard/Sun Tzu/Art of War, The - Sun Tzu.kepub.epub"
    assert book.bookmark.zip_path == "epub/text/translators-intro-1.xhtml"
    assert book.bookmark.span == "kobo.275.1"
    current = book.chapter("epub/text/translators-intro-1.xhtml")
    assert current is not None
    assert (current.offset, current.size, current.percent_read) == (1.0, 6.0, 30)
    assert book.chapters[0].zip_path == "titlepage.xhtml"  # OPF at the zip root: no leading slash


def test_pdf_is_sideloaded_kind_pdf_without_chapters(library: NickelLibrary) -> None:
    book = library.book(PDF)
    assert book is not None
    assert (book.kind, book.source, book.chapters) == (BookKind.PDF, BookSource.SIDELOADED, ())


def test_store_book_with_bare_hash_bookmark_keeps_it_opaque(library: NickelLibrary) -> None:
    book = library.book("4a33da5b-1e53-4782-92ae-f78799a12bf8")
    assert book is not None
    assert (book.bookmark.raw, book.bookmark.zip_path, book.bookmark.span) == ("#", None, None)


def test_a_push_changes_only_the_named_cells(library: NickelLibrary) -> None:
    db = library.database
    cells_before, schema_before = content_cells(db), schema_dump(db)
    library.write(
        ART_OF_WAR,
        KoboWrite(
            percent_read=40,
            read_status=1,
            date_last_read=datetime(2025, 3, 2, 8, 0, 1, tzinfo=UTC),
            bookmark="epub/text/chapter-3.xhtml#kobo.1.1",
            chapter_content_id=CHAPTER_3,
            chapter_percent_read=12,
        ),
    )
    assert schema_dump(db) == schema_before
    assert changed_cells(cells_before, content_cells(db)) == {
        (ART_OF_WAR, "___PercentRead"): ("integer", "40"),
        (ART_OF_WAR, "DateLastRead"): ("text", "'2025-03-02T08:00:01Z'"),
        (ART_OF_WAR, "ChapterIDBookmarked"): ("text", "'epub/text/chapter-3.xhtml#kobo.1.1'"),
        (CHAPTER_3, "___PercentRead"): ("integer", "12"),
    }  # ReadStatus, FirstTimeReading and ReadStateSynced already held what was written
