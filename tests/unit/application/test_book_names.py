"""``resolve_book`` and ``short_ids``: every short form shown resolves back to its own book."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.book_names import UnknownBook, resolve_book, resolve_books, short_ids
from application.records import BookKind, BookSource, FileState, KoboBook


def _book(book_id: str, title: str, device_path: str = "") -> KoboBook:
    path = device_path or f"/mnt/onboard/.kobo/kepub/{book_id}"
    return KoboBook(
        book_id, title, None, None, BookSource.KOMGA, BookKind.KEPUB, path, Path("/x"), FileState.READABLE
    )


BOOKS = [
    _book("0RDTATJQNHSQ0", "Pride and Prejudice"),
    _book("5e0a7f4c-2b1d-4c8e-9a43-7d2f0c6b1e95", "Alice's Adventures in Wonderland"),
    _book("5e0a7f4c-9999-4c8e-9a43-7d2f0c6b1e95", "Alice Through the Looking-Glass"),
    _book(
        "file:///mnt/onboard/Sun Tzu/The Art of War.kepub.epub",
        "The Art of War",
        "/mnt/onboard/Sun Tzu/The Art of War.kepub.epub",
    ),
    _book("ABCDEFGH", "War"),
]


def test_every_short_id_resolves_to_its_own_book() -> None:
    short = short_ids(BOOKS)
    for book in BOOKS:
        assert resolve_book(short[book.book_id], BOOKS) is book
    assert short["5e0a7f4c-2b1d-4c8e-9a43-7d2f0c6b1e95"] == "5e0a7f4c-2"  # shares 8 characters
    assert (
        short["file:///mnt/onboard/Sun Tzu/The Art of War.kepub.epub"]
        == "/mnt/onboard/Sun Tzu/The Art of War.kepub.epub"
    )


def test_an_exact_title_wins_over_a_fragment_of_others() -> None:
    assert resolve_book("war", BOOKS).book_id == "ABCDEFGH"  # "The Art of War" contains it too


def test_the_file_name_alone_names_a_sideloaded_book() -> None:
    assert resolve_book("Sun Tzu/The Art of War.kepub.epub", BOOKS).title == "The Art of War"


def test_ambiguous_and_unknown_names_are_refused_with_candidates() -> None:
    with pytest.raises(UnknownBook, match=r"fits 2 books: Alice's Adventures.*Alice Through"):
        resolve_book("alice", BOOKS)
    with pytest.raises(UnknownBook, match=r"did you mean Pride and Prejudice \(0RDTATJQNHSQ0\)\?"):
        resolve_book("Pride and Prejudise", BOOKS)
    with pytest.raises(UnknownBook, match="kksync books"):
        resolve_book("zzzzzzzz", BOOKS)


def test_several_names_keep_their_order_without_repeats() -> None:
    assert resolve_books(["war", "pride", "ABCDEFGH"], BOOKS) == ["ABCDEFGH", "0RDTATJQNHSQ0"]
