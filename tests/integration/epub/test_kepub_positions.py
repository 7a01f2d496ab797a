"""Generated kepubs: every koboSpan converts to an xpointer and a fraction and back, and
KOReader-style pointers into the chapters land on the span that holds the pointed character."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from adapters.epub.document import EpubDocument
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from entrypoints.demo.sample_books import sample_book

UNINDEXED_STEP = re.compile(r"/([A-Za-z]+|text\(\))(?=[/.]|$)")


def always_indexed(xpointer: str) -> str:
    """The DOM 20260812 spelling: ``[1]`` written on every step."""
    return UNINDEXED_STEP.sub(r"/\1[1]", xpointer)


def all_spans(document: EpubDocument, zip_path: str) -> list[str]:
    index = document.spine_index(zip_path)
    assert index is not None
    return list(document._chapter(index).spans)


@pytest.fixture(scope="module", params=[3, 11, 29])
def kepub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> EpubDocument:
    seed: int = request.param
    path = build_epub(
        sample_book(seed, chapters=3), tmp_path_factory.mktemp("kepub") / "b.kepub.epub", kepub=True
    )
    return EpubContent().open(path)


def test_span_xpointer_span_and_fraction_span_fraction_round_trips(kepub: EpubDocument) -> None:
    checked = 0
    for index, item in enumerate(kepub.spine):
        for span in all_spans(kepub, item.zip_path):
            xpointer = kepub.span_xpointer(item.zip_path, span)
            fraction = kepub.span_fraction(item.zip_path, span)
            assert xpointer is not None and fraction is not None
            assert xpointer.startswith(f"/body/DocFragment[{index + 1}]/body/div/div/")
            for spelling in (xpointer, always_indexed(xpointer)):
                target = kepub.locate(spelling)
                assert target is not None
                assert (target.spine_index, target.span, target.resolved) == (index, span, True)
                assert target.fraction == pytest.approx(fraction)
            assert kepub.span_at(item.zip_path, fraction) == span
            assert (
                kepub.span_fraction(item.zip_path, kepub.span_at(item.zip_path, fraction) or "") == fraction
            )
            checked += 1
    assert checked > 100


def test_text_offsets_inside_a_span_stay_in_that_span(kepub: EpubDocument) -> None:
    resolved = images = 0
    for index, item in enumerate(kepub.spine):
        spans = all_spans(kepub, item.zip_path)
        fractions = [kepub.span_fraction(item.zip_path, s) or 0.0 for s in spans]
        for span, fraction, following in zip(spans, fractions, [*fractions[1:], 1.0], strict=True):
            xpointer = f"{kepub.span_xpointer(item.zip_path, span)}/text().1"
            target = kepub.locate(xpointer)
            assert target is not None and target.spine_index == index
            if not target.resolved:  # an image span has no text node to point into
                assert (target.fraction, target.span) == (0.0, spans[0])
                images += 1
                continue
            assert target.span == span
            assert fraction < target.fraction <= following
            resolved += 1
    with zipfile.ZipFile(kepub.path) as archive:
        assert images == sum(archive.read(i.zip_path).count(b"<img") for i in kepub.spine)
    assert resolved > 10 * images > 0


def test_pointer_to_a_block_lands_on_its_first_span(kepub: EpubDocument) -> None:
    for item in kepub.spine:
        first_in_block: dict[str, str] = {}
        for span in all_spans(kepub, item.zip_path):
            xpointer = kepub.span_xpointer(item.zip_path, span) or ""
            first_in_block.setdefault(xpointer.rsplit("/", 1)[0], span)
        for block, span in first_in_block.items():
            target = kepub.locate(block)
            assert target is not None and target.resolved
            assert target.span == span


def test_nested_lists_tables_images_and_leading_text_are_all_reachable(kepub: EpubDocument) -> None:
    pointers = [
        kepub.span_xpointer(item.zip_path, span) or ""
        for item in kepub.spine
        for span in all_spans(kepub, item.zip_path)
    ]
    assert any("/ol/li" in p for p in pointers)
    assert any(re.search(r"/table(\[\d+\])?/tr(\[\d+\])?/td", p) for p in pointers)
    assert any(p.endswith("/p/span") or "/p[" in p for p in pointers)
    assert all_spans(kepub, kepub.spine[1].zip_path)[:1] == ["kobo.0.1"]
    assert all_spans(kepub, kepub.spine[0].zip_path) == ["kobo.1.1"]  # the cover image


def test_koreader_pointers_into_mixed_text_of_a_store_style_kepub(tmp_path: Path) -> None:
    body = (
        '<div id="book-columns"><div id="book-inner">'
        '<p class="first"><span class="koboSpan" id="kobo.1.1">Opening line. </span>'
        '<span class="koboSpan" id="kobo.1.2">He said <i>softly</i> that it was late. </span>'
        '<span class="koboSpan" id="kobo.1.3">Nobody moved.</span></p>'
        '<p><span class="koboSpan" id="kobo.2.1">Next paragraph.</span></p></div></div>'
    )
    book = BookSpec("Store", "Kobo", [ChapterSpec("Text/one.xhtml", body=body)])
    document = EpubContent().open(build_epub(book, tmp_path / "store.kepub.epub", kepub=True))
    base = "/body/DocFragment/body/div/div/p[1]"
    expectations = {
        f"{base}": ("kobo.1.1", 0),
        f"{base}/span[1]/text().9": ("kobo.1.1", 9),
        f"{base}/span[2]/text()[2].5": ("kobo.1.2", len("Opening line. He said softly") + 5),
        f"{base}/span[2]/i/text().2": ("kobo.1.2", len("Opening line. He said ") + 2),
        f"{base}/span[3]/text().0": ("kobo.1.3", len("Opening line. He said softly that it was late. ")),
        "/body/DocFragment/body/div/div/p[2]/span/text().4": ("kobo.2.1", 64),
    }
    total = len("Opening line. He said softly that it was late. Nobody moved.Next paragraph.")
    for xpointer, (span, chars) in expectations.items():
        target = document.locate(xpointer)
        assert target is not None and target.resolved, xpointer
        assert target.span == span, xpointer
        assert target.fraction == pytest.approx(chars / total), xpointer
    assert (
        document.span_xpointer("OEBPS/Text/one.xhtml", "kobo.1.2")
        == "/body/DocFragment/body/div/div/p[1]/span[2]"
    )


def test_plain_and_kepub_builds_of_a_book_agree_on_positions(tmp_path: Path) -> None:
    spec = sample_book(5, chapters=2)
    plain = EpubContent().open(build_epub(spec, tmp_path / "plain.epub"))
    kepub = EpubContent().open(build_epub(spec, tmp_path / "book.kepub.epub", kepub=True))
    assert not plain.has_spans() and kepub.has_spans()
    chapter = kepub.spine[2].zip_path
    assert plain._chapter(2).total == kepub._chapter(2).total
    target = plain.locate("/body/DocFragment[3]/body/h2/text().3")
    assert target is not None and target.resolved and target.span is None
    assert kepub.span_at(chapter, target.fraction) == "kobo.1.1"
