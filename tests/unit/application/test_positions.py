"""Which chapter map measures a book: Nickel's rows when they say something, else the file."""

from __future__ import annotations

from dataclasses import replace

from application.positions import BookFile, kobo_position
from application.records import KoboBookmark, KoboChapter
from tests.fakes.book_content import FakeBookDocument, FakeChapter
from tests.unit.application.test_service import kobo_book

DOCUMENT = FakeBookDocument(
    [
        FakeChapter("OEBPS/ch1.xhtml", 3000, 1000, [("kobo.1.1", 0)]),
        FakeChapter("OEBPS/ch2.xhtml", 1000, 1000, [("kobo.1.1", 0), ("kobo.2.1", 500)]),
    ]
)


def book_file(chapters: tuple[KoboChapter, ...]) -> BookFile:
    book = replace(
        kobo_book(read_status=1, percent=10),
        chapters=chapters,
        bookmark=KoboBookmark("OEBPS/ch2.xhtml#kobo.2.1", "OEBPS/ch2.xhtml", "kobo.2.1"),
    )
    return BookFile(book, lambda _book: DOCUMENT)


def test_measured_rows_are_nickels_map() -> None:
    file = book_file(
        (
            KoboChapter("x!OEBPS!ch1.xhtml", "OEBPS/ch1.xhtml", 0, 0.0, 50.0),
            KoboChapter("x!OEBPS!ch2.xhtml", "OEBPS/ch2.xhtml", 1, 50.0, 50.0),
        )
    )
    assert kobo_position(file.book, file).progress == 0.75  # half of the second half


def test_rows_of_zeros_fall_back_to_the_files_spine_not_the_last_chapter() -> None:
    file = book_file(
        (
            KoboChapter("x!OEBPS!ch1.xhtml", "OEBPS/ch1.xhtml", 0, 0.0, 0.0),
            KoboChapter("x!OEBPS!ch2.xhtml", "OEBPS/ch2.xhtml", 1, 0.0, 0.0),
        )
    )
    # ch1 is 3/4 of the file: the middle of ch2 is 3/4 + 1/8 of the book.
    assert kobo_position(file.book, file).progress == 0.875
