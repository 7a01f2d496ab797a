"""The generated library has the planned mix, and the same seed gives the same library."""

from __future__ import annotations

from collections import Counter

from tests.bench.library_plan import SHAPE_SHARES, SITUATION_SHARES, Kind, Situation, Source, plan_library

CHAPTERS = [6, 10, 14]
EXTENSIONS = {Kind.KEPUB: ".kepub.epub", Kind.EPUB: ".epub", Kind.PDF: ".pdf"}


def test_every_source_kind_and_situation_is_there_in_its_share() -> None:
    books = plan_library(1000, len(CHAPTERS), CHAPTERS, seed=7)

    shapes = Counter((book.source, book.kind) for book in books)
    situations = Counter(book.situation for book in books)
    assert {shape: count / 10 for shape, count in shapes.items()} == SHAPE_SHARES
    assert {situation: count / 10 for situation, count in situations.items()} == SITUATION_SHARES


def test_a_third_of_the_books_have_progress_on_each_side() -> None:
    books = plan_library(1000, len(CHAPTERS), CHAPTERS)

    kobo = sum(book.kobo is not None for book in books)
    koreader = sum(book.koreader is not None for book in books)
    assert 280 <= kobo <= 360 and 280 <= koreader <= 360


def test_each_situation_orders_the_two_sides_as_its_name_says() -> None:
    for book in plan_library(400, len(CHAPTERS), CHAPTERS):
        kobo, koreader = book.kobo, book.koreader
        if book.situation is Situation.KOBO_AHEAD:
            assert kobo and koreader and kobo.at > koreader.at and kobo.chapter > koreader.chapter
        elif book.situation is Situation.KOREADER_WENT_BACK:
            assert kobo and koreader and koreader.at > kobo.at and koreader.chapter < kobo.chapter
        elif book.situation is Situation.UNTOUCHED:
            assert kobo is None and koreader is None
        for place in (kobo, koreader):
            assert place is None or 1 <= place.chapter <= CHAPTERS[book.template]


def test_content_ids_have_the_shape_of_their_source_and_are_unique() -> None:
    books = plan_library(500, len(CHAPTERS), CHAPTERS)

    assert len({book.content_id for book in books}) == len(books)
    for book in books:
        if book.source is Source.KOMGA:
            assert len(book.content_id) == 13 and book.entitlement_id == book.content_id
        elif book.source is Source.KOBO_STORE:
            assert book.entitlement_id not in (None, book.content_id)
        elif book.source is Source.SIDELOADED:
            assert book.content_id.startswith("file:///mnt/onboard/")
            assert book.content_id.endswith(EXTENSIONS[book.kind])
        assert book.file_present or book.source is Source.SIDELOADED


def test_the_same_seed_gives_the_same_library() -> None:
    assert plan_library(50, 3, CHAPTERS, seed=1) == plan_library(50, 3, CHAPTERS, seed=1)
    assert plan_library(50, 3, CHAPTERS, seed=1) != plan_library(50, 3, CHAPTERS, seed=2)
