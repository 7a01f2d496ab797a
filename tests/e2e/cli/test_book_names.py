"""Naming books: ContentID, its short form, the path on the Kobo, or part of the title."""

from __future__ import annotations

import pytest

from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    ALICE_ID,
    ART_OF_WAR_ID,
    MAIN_BOOKS,
    MOBY_ID,
    ODD_ID,
    PRIDE_ID,
    json_document,
    kksync,
)


@pytest.mark.parametrize(
    ("name", "book_id"),
    [
        (PRIDE_ID, PRIDE_ID),
        ("pride and", PRIDE_ID),  # a title fragment, any case
        ("ALICE", ALICE_ID),
        (ALICE_ID[:8], ALICE_ID),  # the short form `books` shows
        ("/mnt/onboard/Sun Tzu/Sun Tzu's The Art of War.kepub.epub", ART_OF_WAR_ID),  # no file://
        (ODD_ID, ODD_ID),
    ],
)
def test_book_accepts_what_people_remember(main_device: CopyDevice, name: str, book_id: str) -> None:
    layout = main_device()
    result = kksync("status", "--json", "--book", name, "--device", layout.root)
    assert result.returncode == 0, result.stderr
    assert [book["book_id"] for book in json_document(result)["books"]] == [book_id]


def test_a_name_that_fits_nothing_suggests_candidates(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("sync", "--book", "Moby Dik", "--device", layout.root)
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("kksync: ")]
    assert "fits no book" in line and "did you mean" in line and MOBY_ID in line


def test_an_ambiguous_name_lists_the_books_it_fits(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("status", "--book", "the", "--device", layout.root)  # in several titles
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("kksync: ")]
    assert "fits" in line and "books:" in line and "ContentID" in line


def test_books_shows_ids_and_a_count_in_the_same_order_as_status(main_device: CopyDevice) -> None:
    layout = main_device()
    listing = kksync("books", "--device", layout.root, env={"COLUMNS": "300"})
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[-1] == f"{len(MAIN_BOOKS)} books"
    assert ALICE_ID[:8] in listing.stdout and PRIDE_ID[:8] in listing.stdout
    assert "Sun Tzu/Sun Tzu's The Art of War.kepub.epub" in listing.stdout
    books_order = [
        b["book_id"] for b in json_document(kksync("books", "--json", "--device", layout.root))["books"]
    ]
    status = json_document(kksync("status", "--json", "--device", layout.root))
    assert [b["book_id"] for b in status["books"]] == books_order
    titles = [book["title"] for book in status["books"]]
    status_table = kksync("status", "--device", layout.root, env={"COLUMNS": "300"}).stdout
    positions = [status_table.index(title) for title in titles]
    assert positions == sorted(positions)


def test_one_book_is_one_book(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("status", "--book", PRIDE_ID, "--device", layout.root)
    assert any(line.startswith("1 book,") for line in result.stdout.splitlines()), result.stdout
