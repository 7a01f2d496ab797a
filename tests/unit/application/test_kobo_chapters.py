"""``KoboChapters``: chapter rows become records only when read, and compare as those records."""

from __future__ import annotations

from pathlib import Path

from application.records import BookKind, BookSource, FileState, KoboBook, KoboChapter, KoboChapters

ROWS = (("B!OEBPS!a.xhtml", "B", 0, 0.0, 60.0, None), ("B!OEBPS!b.xhtml", "B", 1, 60.0, 40.0, 100))
RECORDS = (
    KoboChapter("B!OEBPS!a.xhtml", "OEBPS/a.xhtml", 0, 0.0, 60.0),
    KoboChapter("B!OEBPS!b.xhtml", "OEBPS/b.xhtml", 1, 60.0, 40.0, 100),
)


def lazy(calls: list[tuple[object, ...]]) -> KoboChapters:
    def convert() -> tuple[KoboChapter, ...]:
        calls.append(ROWS)
        return RECORDS

    return KoboChapters(ROWS, convert)


def test_rows_are_converted_once_and_only_when_read() -> None:
    calls: list[tuple[object, ...]] = []
    chapters = lazy(calls)
    assert chapters.source == ROWS and calls == []  # a digest of the source converts nothing
    assert list(chapters) == list(RECORDS) and chapters[1] == RECORDS[1] and len(chapters) == 2
    assert calls == [ROWS]


def test_chapters_compare_as_their_records_whatever_they_were_read_from() -> None:
    assert lazy([]) == RECORDS == KoboChapters.of(RECORDS)
    assert lazy([]) == KoboChapters.of(RECORDS) and hash(lazy([])) == hash(KoboChapters.of(RECORDS))
    assert lazy([]) != RECORDS[:1] and lazy([]) != "not chapters"


def test_a_book_made_with_a_tuple_of_records_holds_them_as_chapters() -> None:
    book = KoboBook(
        "B",
        "T",
        None,
        None,
        BookSource.KOMGA,
        BookKind.KEPUB,
        "/mnt/onboard/x",
        Path("/x"),
        FileState.READABLE,
        chapters=RECORDS,
    )
    assert isinstance(book.chapters, KoboChapters)
    assert book.chapters == RECORDS and book.chapter_source() == RECORDS
    assert book.chapter("OEBPS/b.xhtml") == RECORDS[1]
