"""ChapterMap on every kepub of the real fw 4.38 database: store books and sideloaded ones."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest

from domain import Chapter, ChapterMap
from tests.fixtures import KOBO_FW438_DATABASE

KEPUB = "application/x-kobo-epub+zip"
STORE_BOOK = "c00698f0-3836-4428-b0fc-48354822fa80"  # 23 chapters, REAL sizes summing to 100


def _kepub_chapter_rows() -> dict[str, list[tuple[str, float, float]]]:
    uri = f"{KOBO_FW438_DATABASE.as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(
            "SELECT c.BookID, c.ContentID, c.___FileOffset, c.___FileSize FROM content c"
            " JOIN content b ON b.ContentID = c.BookID"
            " WHERE c.ContentType = '9' AND b.ContentType = '6' AND b.MimeType = ?"
            " ORDER BY c.BookID, c.VolumeIndex",
            (KEPUB,),
        ).fetchall()
    books: dict[str, list[tuple[str, float, float]]] = {}
    for book_id, content_id, offset, size in rows:
        books.setdefault(book_id, []).append((content_id, float(offset), float(size)))
    return books


BOOKS = _kepub_chapter_rows()


def _book_map(book_id: str) -> ChapterMap:
    return ChapterMap([Chapter(href, offset, size) for href, offset, size in BOOKS[book_id]], total=100.0)


def _grid() -> Iterator[float]:
    return (step / 1000 for step in range(1001))


def test_the_fixture_holds_store_and_sideloaded_kepubs() -> None:
    assert STORE_BOOK in BOOKS
    assert sum(book.startswith("file://") for book in BOOKS) >= 10


@pytest.mark.parametrize("book_id", sorted(BOOKS))
def test_every_progress_lands_in_a_chapter_with_length_and_converts_back(book_id: str) -> None:
    book = _book_map(book_id)
    assert book.total == pytest.approx(100.0, abs=1e-5)  # REAL sizes are float32 sums
    previous = (0, 0.0)
    for progress in _grid():
        point = book.locate(progress)
        assert point is not None
        assert book.progress_at(point.index, 0.0) < book.progress_at(point.index, 1.0)
        assert book.progress_at(point.index, point.fraction) == pytest.approx(progress, abs=1e-9)
        assert (point.index, point.fraction) >= previous
        previous = (point.index, point.fraction)


def test_store_book_boundaries_follow_the_real_sizes() -> None:
    book = _book_map(STORE_BOOK)
    running = 0.0
    for index, (_, _, size) in enumerate(BOOKS[STORE_BOOK]):
        assert book.progress_at(index, 0.0) == pytest.approx(running / book.total, abs=1e-12)
        running += size
