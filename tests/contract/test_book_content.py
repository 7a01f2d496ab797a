"""The ``BookContent`` / ``BookDocument`` contract, held against the real adapter and the fake.

Each case provides a book with koboSpans, the spans it expects per chapter (read from the
kepub bytes with a regex for the real adapter, so the oracle is independent of the parser),
and a path that is encrypted.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from application.errors import BookContentError, EncryptedBook
from application.ports import BookContent
from application.records import CreDom
from entrypoints.demo.kepub_builder import build_epub
from entrypoints.demo.sample_books import sample_book
from tests.fakes.book_content import FakeBookContent, FakeChapter

SPAN_ID = re.compile(r'id="(kobo\.\d+\.\d+)"')


@dataclass(frozen=True)
class Case:
    content: BookContent
    book: Path
    spans: dict[str, list[str]]
    encrypted: Path
    missing: Path


def real_case(tmp_path: Path) -> Case:
    book = build_epub(sample_book(7, chapters=3), tmp_path / "book.kepub.epub", kepub=True)
    with zipfile.ZipFile(book) as archive:
        spans = {
            name: SPAN_ID.findall(archive.read(name).decode())
            for name in archive.namelist()
            if name.endswith(".xhtml")
        }
    encrypted = tmp_path / "drm.epub"
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(encrypted, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("META-INF/rights.xml", "<rights/>")
    return Case(EpubContent(), book, spans, encrypted, tmp_path / "missing.epub")


def fake_case(tmp_path: Path) -> Case:
    content = FakeBookContent()
    chapters = [
        FakeChapter("OEBPS/cover.xhtml", 300, 1, [("kobo.1.1", 0)], linear=False),
        FakeChapter(
            "OEBPS/one.xhtml",
            4000,
            120,
            [("kobo.0.1", 0), ("kobo.1.1", 30), ("kobo.1.2", 64), ("kobo.2.1", 90)],
        ),
        FakeChapter("OEBPS/two.xhtml", 2500, 80, [("kobo.1.1", 0), ("kobo.2.1", 41)]),
    ]
    book = tmp_path / "fake.kepub.epub"
    content.add(book, chapters)
    encrypted = tmp_path / "drm.epub"
    content.add_encrypted(encrypted)
    spans = {c.zip_path: [s for s, _ in c.spans] for c in chapters}
    return Case(content, book, spans, encrypted, tmp_path / "missing.epub")


@pytest.fixture(params=[real_case, fake_case], ids=["EpubContent", "FakeBookContent"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    factory: Callable[[Path], Case] = request.param
    return factory(tmp_path)


def test_spine_numbers_fragments_from_one_in_spine_order(case: Case) -> None:
    spine = case.content.open(case.book).spine
    assert [item.fragment_index for item in spine] == list(range(1, len(spine) + 1))
    assert {item.zip_path for item in spine} == set(case.spans)
    assert not spine[0].linear and all(item.linear for item in spine[1:])


def test_chapter_map_shares_are_proportional_to_sizes(case: Case) -> None:
    document = case.content.open(case.book)
    chapter_map = document.chapter_map()
    sizes = [item.size for item in document.spine]
    for index, size in enumerate(sizes):
        share = chapter_map.progress_at(index, 1.0) - chapter_map.progress_at(index, 0.0)
        assert share == pytest.approx(size / sum(sizes))
    assert chapter_map.index_of(document.spine[1].zip_path) == 1


def test_every_span_round_trips_through_fraction_and_xpointer(case: Case) -> None:
    document = case.content.open(case.book)
    assert document.has_spans()
    for index, item in enumerate(document.spine):
        previous = -1.0
        for span in case.spans[item.zip_path]:
            fraction = document.span_fraction(item.zip_path, span)
            assert fraction is not None
            assert previous < fraction < 1.0
            previous = fraction
            assert document.span_at(item.zip_path, fraction) == span
            xpointer = document.span_xpointer(item.zip_path, span)
            assert xpointer is not None
            target = document.locate(xpointer)
            assert target is not None
            assert (target.spine_index, target.span, target.resolved) == (index, span, True)
            assert target.fraction == pytest.approx(fraction)


def test_span_at_clamps_to_first_and_last_span(case: Case) -> None:
    document = case.content.open(case.book)
    for item in document.spine:
        spans = case.spans[item.zip_path]
        assert document.span_at(item.zip_path, 0.0) == spans[0]
        assert document.span_at(item.zip_path, 1.0) == spans[-1]
        assert document.span_at(item.zip_path, 7.5) == spans[-1]


def test_chapter_xpointer_lands_on_the_chapter_start(case: Case) -> None:
    document = case.content.open(case.book)
    for index, item in enumerate(document.spine):
        xpointer = document.chapter_xpointer(item.zip_path)
        assert xpointer == f"/body/DocFragment[{index + 1}]/body"
        target = document.locate(xpointer)
        assert target is not None
        assert (target.spine_index, target.fraction, target.resolved) == (index, 0.0, True)
        assert target.span == case.spans[item.zip_path][0]


def test_unknown_chapters_and_spans_give_none(case: Case) -> None:
    document = case.content.open(case.book)
    chapter = document.spine[1].zip_path
    assert document.span_fraction(chapter, "kobo.999.9") is None
    assert document.span_xpointer(chapter, "kobo.999.9") is None
    assert document.span_fraction("OEBPS/nowhere.xhtml", "kobo.1.1") is None
    assert document.span_at("OEBPS/nowhere.xhtml", 0.5) is None
    assert document.chapter_xpointer("OEBPS/nowhere.xhtml") is None


def test_locate_without_the_fragment_is_none(case: Case) -> None:
    document = case.content.open(case.book)
    assert document.locate(f"/body/DocFragment[{len(document.spine) + 1}]/body") is None
    assert document.locate("not an xpointer") is None


def test_locate_with_a_stale_path_falls_back_to_the_chapter_start(case: Case) -> None:
    document = case.content.open(case.book)
    target = document.locate("/body/DocFragment[2]/body/section[9]/p[4]/text().3")
    assert target is not None
    assert (target.spine_index, target.fraction, target.resolved) == (1, 0.0, False)
    assert target.span == case.spans[document.spine[1].zip_path][0]


def test_open_reports_encrypted_and_missing_books(case: Case) -> None:
    with pytest.raises(EncryptedBook, match=r"drm\.epub"):
        case.content.open(case.encrypted)
    with pytest.raises(BookContentError, match=r"missing\.epub"):
        case.content.open(case.missing)


def test_pointers_are_spelled_for_the_sidecars_dom(case: Case) -> None:
    """From DOM 20260812 every step carries ``[k]``; both spellings locate the same span."""
    document = case.content.open(case.book)
    nightly = CreDom(20260812, 3)
    for index, item in enumerate(document.spine):
        for span in case.spans[item.zip_path]:
            indexed = document.span_xpointer(item.zip_path, span, nightly)
            assert indexed is not None and indexed.startswith(f"/body[1]/DocFragment[{index + 1}]/body[1]/")
            assert not re.search(r"/[A-Za-z]+(?=/|$)", indexed), indexed
            plain = document.span_pointer(item.zip_path, span)
            assert plain is not None and plain.approximate is None
            for pointer, dom in ((indexed, nightly), (plain.xpointer, None)):
                target = document.locate(pointer, dom)
                assert target is not None and (target.spine_index, target.span) == (index, span)
        assert (
            document.chapter_xpointer(item.zip_path, nightly) == f"/body[1]/DocFragment[{index + 1}]/body[1]"
        )


def test_adobe_points_give_a_fraction_and_a_pointer_that_agree(case: Case) -> None:
    document = case.content.open(case.book)
    chapter = document.spine[1].zip_path
    pointer = document.point_pointer(chapter, "/1/4/2/1:0")
    fraction = document.point_fraction(chapter, "/1/4/2/1:0")
    assert pointer is not None and fraction is not None
    target = document.locate(pointer.xpointer)
    assert target is not None and target.spine_index == 1
    assert target.fraction == pytest.approx(fraction)
    assert document.point_pointer("OEBPS/nowhere.xhtml", "/1/4/2") is None
    assert document.point_fraction(chapter, "not a point") is None
