"""Pointers for each DOM version KOReader uses, checked against what crengine itself wrote.

Every expected pointer below was printed by the crengine oracle (``cre-oracle ids`` with
``--dom-version 20171225 --flags 0`` for legacy rendering, ``--flags 0x7CFFFFFF`` for web
rendering on an old DOM, ``cre-oracle-head`` for 20260812) for this very chapter, so these tests
guard the behaviour on a bare clone; ``test_positions_oracle`` asks the oracle live.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.epub import EpubContent
from adapters.epub.document import EpubDocument
from application.records import CreDom
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from entrypoints.demo.sample_books import PIXEL_PNG
from tests.integration.epub.zips import container, write_zip, xhtml

IMG = "../Images/p.png"
CSS = b".fl{float:left} .ib{display:inline-block} .blk{display:block} span.fr{float:right}"
BODY = f"""<div>Loose text before. <b>bold</b><p>Para one. Two.</p>more loose text<p>Para two.</p></div>
<div><img src="{IMG}" alt="a"/></div>
<p>Text <img src="{IMG}" alt="b"/> after image.</p>
<div class="fl"><p>floated div</p></div>
<p>After float.</p>
<p>x <span class="ib">inline block</span> y</p>
<ul><li>one<ol><li>n1</li></ol></li><li>two <p>in p</p> tail</li></ul>
<table><tr><td>c1</td><td>c2 <p>cp</p></td></tr></table>
<div><span class="fr">fr span</span> text beside float</div>
<section>sect text<p>sect p</p></section>
<p>br<br/>after br</p>
"""
CHAPTER = "OEBPS/Text/c1.xhtml"
LEGACY = CreDom(20171225, 0)
OLD_WEB = CreDom(20171225, 3)
STABLE = CreDom(20240114, 3)
NIGHTLY = CreDom(20260812, 3)
ROOT = "/body/DocFragment/body/div/div"
COMMON_V1 = {
    "kobo.0.1": f"{ROOT}/div[1]/autoBoxing[1]/span",
    "kobo.1.3": f"{ROOT}/div[1]/autoBoxing[2]/span",
    "kobo.2.1": f"{ROOT}/div[1]/p[2]/span",
    "kobo.7.1": f"{ROOT}/p[2]/span",
    "kobo.8.2": f"{ROOT}/p[3]/span[2]/span",
    "kobo.11.2": f"{ROOT}/ul/li[2]/span[2]",
    "kobo.12.2": f"{ROOT}/table/tr/td[2]/autoBoxing/span",
    "kobo.13.4": f"{ROOT}/section/autoBoxing/span",
    "kobo.15.2": f"{ROOT}/p[4]/span[2]",
}
LEGACY_V1 = COMMON_V1 | {
    "kobo.6.1": f"{ROOT}/div[3]/p/span",
    "kobo.13.2": f"{ROOT}/div[4]/span[1]/span",
    "kobo.13.3": f"{ROOT}/div[4]/span[2]",
}
WEB_V1 = COMMON_V1 | {
    "kobo.6.1": f"{ROOT}/floatBox/div/p/span",
    "kobo.13.2": f"{ROOT}/div[3]/floatBox/span/span",
    "kobo.13.3": f"{ROOT}/div[3]/span",
}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> EpubDocument:
    spec = BookSpec(
        "Probe",
        "P",
        [ChapterSpec("Text/c1.xhtml", body=BODY, head='<link rel="stylesheet" href="../s.css"/>')],
        resources={"Images/p.png": PIXEL_PNG, "s.css": CSS},
    )
    return EpubContent().open(
        build_epub(spec, tmp_path_factory.mktemp("dom") / "probe.kepub.epub", kepub=True)
    )


@pytest.mark.parametrize(("dom", "expected"), [(LEGACY, LEGACY_V1), (OLD_WEB, WEB_V1)], ids=["legacy", "web"])
def test_old_dom_pulls_write_crengines_v1_pointer_with_its_wrappers(
    book: EpubDocument, dom: CreDom, expected: dict[str, str]
) -> None:
    for span, pointer in expected.items():
        choice = book.span_pointer(CHAPTER, span, dom)
        assert choice is not None and (choice.xpointer, choice.approximate) == (pointer, None), span


@pytest.mark.parametrize(("dom", "expected"), [(LEGACY, LEGACY_V1), (OLD_WEB, WEB_V1)], ids=["legacy", "web"])
def test_old_dom_pushes_read_v1_pointers_to_the_span_they_name(
    book: EpubDocument, dom: CreDom, expected: dict[str, str]
) -> None:
    for span, pointer in expected.items():
        for spelling in (pointer, f"{pointer}/text().0"):
            target = book.locate(spelling, dom)
            assert target is not None and target.resolved, spelling
            assert (target.span, target.note) == (span, None), spelling


def test_a_v2_pointer_read_with_an_old_dom_is_not_taken_for_another_span(book: EpubDocument) -> None:
    """``div[1]/span[1]`` does not exist in the V1 DOM: crengine would not find it either."""
    target = book.locate(f"{ROOT}/div[1]/span[1]", LEGACY)
    assert target is not None and not target.resolved


def test_images_map_to_their_own_span_or_the_one_before(book: EpubDocument) -> None:
    for dom in (LEGACY, STABLE):
        own = book.locate(f"{ROOT}/div[2]/span/img.0", dom)
        inline = book.locate(f"{ROOT}/p[1]/span[2]/img.0", dom)
        assert own is not None and own.span == "kobo.3.1"
        assert inline is not None and inline.span == "kobo.5.1"


def test_nightly_pointers_carry_an_index_on_every_step(book: EpubDocument) -> None:
    assert (
        book.span_xpointer(CHAPTER, "kobo.8.2", NIGHTLY)
        == "/body[1]/DocFragment[1]/body[1]/div[1]/div[1]/p[3]/span[2]/span[1]"
    )
    assert (
        book.span_xpointer(CHAPTER, "kobo.13.3", NIGHTLY)
        == "/body[1]/DocFragment[1]/body[1]/div[1]/div[1]/div[4]/span[2]"
    )
    assert book.chapter_xpointer(CHAPTER, NIGHTLY) == "/body[1]/DocFragment[1]/body[1]"
    target = book.locate("/body[1]/DocFragment[1]/body[1]/div[1]/div[1]/div[4]/span[2]/text()[1].0", NIGHTLY)
    assert target is not None and target.span == "kobo.13.3"
    assert book.span_xpointer(CHAPTER, "kobo.8.2", STABLE) == f"{ROOT}/p[3]/span[2]/span"


def test_styles_kksync_cannot_evaluate_give_a_noted_enclosing_pointer(tmp_path: Path) -> None:
    css = b"div.box > p:first-child { display: inline }"
    body = '<div class="box"><p>First.</p>loose<p>Second.</p></div><p>Certain.</p>'
    spec = BookSpec(
        "Tricky",
        "T",
        [ChapterSpec("Text/t.xhtml", body=body, head='<link rel="stylesheet" href="../t.css"/>')],
        resources={"t.css": css},
    )
    document = EpubContent().open(build_epub(spec, tmp_path / "t.kepub.epub", kepub=True))
    chapter = "OEBPS/Text/t.xhtml"
    choice = document.span_pointer(chapter, "kobo.1.1", LEGACY)
    assert choice is not None and choice.xpointer == "/body/DocFragment/body/div/div/div"  # the box
    assert choice.approximate is not None and "kobo.1.1" in choice.approximate
    assert document.span_pointer(chapter, "kobo.1.1", STABLE) == document.span_pointer(chapter, "kobo.1.1")
    target = document.locate("/body/DocFragment/body/div/div/div/autoBoxing/p/span", LEGACY)
    assert target is not None and target.resolved and target.note is not None
    assert target.span == "kobo.1.1"  # the enclosing div's first span: never after the real one


def test_plain_epub_points_name_the_element_kobo_stands_on(tmp_path: Path) -> None:
    chapters = [
        ChapterSpec(
            f"Text/c{n}.xhtml", body=f"<h1>Chapter {n}</h1><p>Één ünïcode line.</p><p>Second {n}.</p>"
        )
        for n in (1, 2)
    ]
    document = EpubContent().open(build_epub(BookSpec("Plain", "P", chapters), tmp_path / "plain.epub"))
    chapter = "OEBPS/Text/c2.xhtml"
    choice = document.point_pointer(chapter, "/1/4/6/1:3")
    assert choice is not None and (choice.xpointer, choice.approximate) == (
        "/body/DocFragment[2]/body/p[2]",
        None,
    )
    whole = len("Chapter 2Één ünïcode line.Second 2.")
    in_p1 = document.point_fraction(chapter, "/1/4/4/1:6")  # 6 UTF-8 bytes = "Één " (4 chars)
    assert in_p1 == pytest.approx((len("Chapter 2") + 4) / whole)
    partial = document.point_pointer(chapter, "/1/4/40/1:0")
    assert partial is not None and partial.xpointer == "/body/DocFragment[2]/body"
    assert partial.approximate is not None
    assert document.point_pointer(chapter, "nonsense") is None


def test_below_20240114_only_xhtml_spine_items_are_numbered(tmp_path: Path) -> None:
    """An SVG cover in the spine: DocFragment[3] now, DocFragment[2] for an old DOM (oracle-checked)."""
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
        "<metadata/><manifest>"
        '<item id="cover" href="cover.svg" media-type="image/svg+xml"/>'
        '<item id="a" href="a.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="b" href="b.xhtml" media-type="application/xhtml+xml"/>'
        '</manifest><spine><itemref idref="cover"/><itemref idref="a"/><itemref idref="b"/></spine></package>'
    )
    spans = (
        '<p><span class="koboSpan" id="kobo.1.1">Beta.</span></p>'
        '<p><span class="koboSpan" id="kobo.2.1">G.</span></p>'
    )
    path = write_zip(
        tmp_path / "svg.kepub.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "content.opf": opf.encode(),
            "cover.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
            "a.xhtml": xhtml('<p><span class="koboSpan" id="kobo.1.1">Alpha.</span></p>'),
            "b.xhtml": xhtml(spans),
        },
    )
    document = EpubContent().open(path)
    assert document.span_xpointer("b.xhtml", "kobo.2.1", STABLE) == "/body/DocFragment[3]/body/p[2]/span"
    assert document.span_xpointer("b.xhtml", "kobo.2.1", LEGACY) == "/body/DocFragment[2]/body/p[2]/span"
    assert document.span_xpointer("cover.svg", "kobo.1.1", LEGACY) is None
    assert document.chapter_xpointer("cover.svg", LEGACY) is None
    target = document.locate("/body/DocFragment[2]/body/p[2]/span", LEGACY)
    assert target is not None and (target.spine_index, target.span) == (2, "kobo.2.1")


def test_an_enclosing_pointer_is_never_one_a_floatbox_renumbered(tmp_path: Path) -> None:
    """``div.box`` is ``div[2]`` in V2 but ``div`` in V1 (the float went into a floatBox): skipped."""
    css = b".fl { float: left } div.box > p:first-child { display: inline }"
    body = (
        '<div class="fl">Floated.</div><div class="box"><p>First.</p>loose<p>Second.</p></div><p>Certain.</p>'
    )
    spec = BookSpec(
        "Shift",
        "S",
        [ChapterSpec("Text/s.xhtml", body=body, head='<link rel="stylesheet" href="../s.css"/>')],
        resources={"s.css": css},
    )
    document = EpubContent().open(build_epub(spec, tmp_path / "s.kepub.epub", kepub=True))
    boxed = document.span_pointer("OEBPS/Text/s.xhtml", "kobo.1.1", OLD_WEB)
    assert boxed is not None and boxed.xpointer == "/body/DocFragment/body/div/div"  # oracle: resolves
    assert boxed.approximate is not None
    certain = document.span_pointer("OEBPS/Text/s.xhtml", "kobo.3.1", OLD_WEB)
    assert certain is not None and (certain.xpointer, certain.approximate) == (
        "/body/DocFragment/body/div/div/p/span",  # oracle: the same
        None,
    )
