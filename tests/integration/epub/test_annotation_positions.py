"""Highlight positions on generated kepubs: Nickel's span + offset and KOReader's pos0/pos1 name the
same characters, both ways, including the awkward places (span boundaries, several text nodes in
one element, images), and what cannot be exact is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.epub import EpubContent
from adapters.epub.annotation_positions import EpubAnnotationPlacer, PlacedBook
from application.annotation_records import AnnotationNotPlaced
from domain.annotation import TextPoint, TextRange
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from entrypoints.demo.sample_books import sample_book
from tests.support.crengine_oracle import find_oracle, resolve_all

MIXED = (
    '<div id="book-columns"><div id="book-inner">'
    '<p><span class="koboSpan" id="kobo.1.1">Hello <b>big</b> world. </span>'
    '<span class="koboSpan" id="kobo.1.2">Second sentence here.</span></p>\n'
    '<p><span class="koboSpan" id="kobo.2.1"><img src="a.png" alt=""/></span></p>\n'
    '<p><span class="koboSpan" id="kobo.3.1">After the picture.</span></p>'
    "</div></div>"
)
PREFIX = "/body/DocFragment[2]/body/div/div"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlacedBook]:
    spec = BookSpec(
        "Mixed",
        "A. Writer",
        [
            ChapterSpec("Text/one.xhtml", paragraphs=["Opening words."]),
            ChapterSpec("Text/two.xhtml", body=MIXED),
        ],
        resources={"Images/a.png": b"\x89PNG\r\n\x1a\n"},
    )
    path = build_epub(spec, tmp_path_factory.mktemp("mixed") / "m.kepub.epub", kepub=True)
    return path, EpubAnnotationPlacer(EpubContent()).open(path)


def test_the_chapter_text_counts_an_image_as_one_character(mixed: tuple[Path, PlacedBook]) -> None:
    _, book = mixed
    assert book.chapter(1).text == "Hello big world. Second sentence here.\ufffcAfter the picture."


def test_a_second_text_node_gets_its_index_and_both_sides_agree(mixed: tuple[Path, PlacedBook]) -> None:
    _, book = mixed
    where = TextRange(TextPoint(1, 11), TextPoint(1, 29))
    assert book.text(where) == "orld. Second sente"
    pointers = book.to_koreader(where)
    assert pointers.pos0 == f"{PREFIX}/p[1]/span[1]/text()[2].2"
    assert pointers.pos1 == f"{PREFIX}/p[1]/span[2]/text().12"
    assert book.from_koreader(pointers.pos0, pointers.pos1) == where
    kobo = book.to_kobo(where)
    assert (kobo.start_span, kobo.start_offset) == ("kobo.1.1", 11)
    assert (kobo.end_span, kobo.end_offset) == ("kobo.1.2", 12)
    assert book.from_kobo(kobo.zip_path, "kobo.1.1", 11, "kobo.1.2", 12) == where


def test_an_end_on_a_span_boundary_is_the_next_span_at_zero_for_nickel(
    mixed: tuple[Path, PlacedBook],
) -> None:
    _, book = mixed
    where = TextRange(TextPoint(1, 0), TextPoint(1, 17))  # the whole first sentence with its space
    kobo = book.to_kobo(where)
    assert (kobo.end_span, kobo.end_offset) == ("kobo.1.2", 0)
    assert book.to_koreader(where).pos1 == f"{PREFIX}/p[1]/span[1]/text()[2].8"
    assert book.from_kobo(kobo.zip_path, kobo.start_span, 0, kobo.end_span, 0) == where


def test_positions_that_cannot_be_exact_are_refused(mixed: tuple[Path, PlacedBook]) -> None:
    _, book = mixed
    with pytest.raises(AnnotationNotPlaced, match="outside span"):
        book.from_kobo("OEBPS/Text/two.xhtml", "kobo.1.1", 99, "kobo.1.2", 1)
    with pytest.raises(AnnotationNotPlaced, match="not in its chapter"):
        book.from_kobo("OEBPS/Text/two.xhtml", "kobo.9.9", 0, "kobo.1.2", 1)
    with pytest.raises(AnnotationNotPlaced, match="not in the book's spine"):
        book.from_kobo("OEBPS/Text/nope.xhtml", "kobo.1.1", 0, "kobo.1.2", 1)
    with pytest.raises(AnnotationNotPlaced, match="two chapters"):
        book.to_kobo(TextRange(TextPoint(0, 0), TextPoint(1, 3)))
    with pytest.raises(AnnotationNotPlaced, match="not an EPUB xpointer"):
        book.from_koreader("12", "13")
    with pytest.raises(AnnotationNotPlaced, match="names no chapter"):
        book.from_koreader("/body/DocFragment[9]/body/p", "/body/DocFragment[9]/body/p")
    with pytest.raises(AnnotationNotPlaced, match="lies before"):
        book.from_koreader(f"{PREFIX}/p[3]/span/text().5", f"{PREFIX}/p[1]/span[1]/text().0")


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_every_sentence_of_a_generated_kepub_round_trips_both_ways(seed: int, tmp_path: Path) -> None:
    path = build_epub(sample_book(seed, chapters=3), tmp_path / "b.kepub.epub", kepub=True)
    book = EpubAnnotationPlacer(EpubContent()).open(path)
    checked = 0
    for index in range(3):
        chapter = book.chapter(index)
        for span, start in zip(chapter.spans, chapter.span_starts, strict=True):
            end = chapter.span_end(span)
            assert end is not None
            if end - start < 4:
                continue
            where = TextRange(TextPoint(index, start + 1), TextPoint(index, end - 1))
            pointers = book.to_koreader(where)
            assert book.from_koreader(pointers.pos0, pointers.pos1) == where
            kobo = book.to_kobo(where)
            assert (kobo.start_span, kobo.start_offset) == (span, 1)
            assert book.from_kobo(kobo.zip_path, kobo.start_span, 1, kobo.end_span, kobo.end_offset) == where
            checked += 1
    assert checked > 50


def test_crengine_finds_the_pointers_at_the_same_characters(mixed: tuple[Path, PlacedBook]) -> None:
    if find_oracle() is None:
        pytest.skip("the crengine oracle is absent (set KKSYNC_CRE_ORACLE or keep shared/tools/crengine)")
    path, book = mixed
    where = TextRange(TextPoint(1, 11), TextPoint(1, 29))
    pointers = book.to_koreader(where)
    start, end = resolve_all(path, [pointers.pos0, pointers.pos1])
    assert (start["normalized"], end["normalized"]) == (pointers.pos0, pointers.pos1)
    assert start["text_after"].startswith("orld.")
    assert end["text_after"].startswith("nce here.")
