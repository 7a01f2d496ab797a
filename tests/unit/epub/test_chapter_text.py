"""Character offsets, crengine paths and xpointer resolution inside one chapter."""

from __future__ import annotations

import pytest
from lxml import etree

from adapters.epub.chapter_text import ChapterText
from adapters.epub.markup import parse_body
from adapters.epub.xpointer import parse_xpointer

XHTML = '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'


def text_of(element: etree._Element) -> str:
    return "".join(str(t) for t in element.itertext())


def chapter(body: str, head: str = XHTML) -> ChapterText:
    return ChapterText(parse_body(f"{head}<body>{body}</body></html>".encode()))


def offset(text: ChapterText, xpointer: str) -> int | None:
    parsed = parse_xpointer(xpointer)
    assert parsed is not None
    return text.resolve(parsed.steps, parsed.point)


def test_offsets_count_code_points_with_entities_decoded() -> None:
    text = chapter("<p>a&nbsp;b&amp;c</p><p>é😀x</p>")
    assert text.total == len("a\u00a0b&c") + len("é😀x")
    assert offset(text, "/body/DocFragment/body/p[2]") == 5
    assert offset(text, "/body/DocFragment/body/p[2]/text().2") == 7


def test_whitespace_runs_count_once_and_indentation_between_blocks_not_at_all() -> None:
    text = chapter("\n  <div>\n    <p>one\n   two</p>\n    <p>three</p>\n  </div>\n")
    assert text.total == len("one two") + len("three")
    assert offset(text, "/body/DocFragment/body/div/p[2]/text().0") == 7


def test_text_nodes_are_numbered_among_text_siblings() -> None:
    text = chapter("<p>first <em>mid</em> second <b>x</b> third</p>")
    assert offset(text, "/body/DocFragment/body/p/text()[1].3") == 3
    assert offset(text, "/body/DocFragment/body/p/text()[2].2") == len("first mid") + 2
    assert offset(text, "/body/DocFragment/body/p/text()[3].0") == len("first mid second x")
    assert offset(text, "/body/DocFragment/body/p/text()[4].0") is None


def test_character_offset_past_the_node_is_clamped_to_its_end() -> None:
    text = chapter("<p>abc</p><p>def</p>")
    assert offset(text, "/body/DocFragment/body/p[1]/text().99") == 3


def test_always_indexed_form_resolves_like_the_normalized_one() -> None:
    text = chapter("<div><p>a</p><p>bc</p></div>")
    assert offset(text, "/body/DocFragment[1]/body[1]/div[1]/p[2]/text()[1].1") == 2
    assert offset(text, "/body/DocFragment/body/div/p[2]/text().1") == 2


def test_numeric_steps_and_element_points_count_children_of_any_kind() -> None:
    text = chapter("<p>ab<i>cd</i>ef</p>")
    assert offset(text, "/body/DocFragment/body/p/2") == 2
    assert offset(text, "/body/DocFragment/body/p.2") == 4
    assert offset(text, "/body/DocFragment/body/p.9") == 6


def test_images_count_as_one_character_and_script_text_as_none() -> None:
    text = chapter('<p><img src="a.png"/>ab</p><script>var x = "long";</script><p>c</p>')
    assert text.total == 4
    assert offset(text, "/body/DocFragment/body/p[2]") == 3


def test_missing_steps_do_not_resolve() -> None:
    text = chapter("<p>a</p>")
    assert offset(text, "/body/DocFragment/body/p[2]") is None
    assert offset(text, "/body/DocFragment/body/div") is None
    assert offset(text, "/body/DocFragment/body/p/text()/b") is None
    assert offset(text, "/body/DocFragment/html/p") is None


def test_element_paths_use_local_names_and_normalized_indexes() -> None:
    text = chapter(
        '<div><p>x</p></div><div><p><span id="kobo.1.1">a</span><span id="kobo.1.2">b</span></p>'
        '<h1><span id="kobo.2.1">c</span></h1></div>'
    )
    assert text.span_path("kobo.1.2") == "body/div[2]/p/span[2]"
    assert text.span_path("kobo.2.1") == "body/div[2]/h1/span"
    assert text.span_path("kobo.9.9") is None


def test_spans_in_document_order_with_their_offsets() -> None:
    text = chapter('<p><span id="kobo.1.1">Hello. </span><span id="kobo.1.2">World</span></p>')
    assert text.spans == ["kobo.1.1", "kobo.1.2"]
    assert text.span_starts == [0, 7]
    assert text.span_fraction("kobo.1.2") == pytest.approx(7 / 12)
    assert text.span_at_offset(6.9) == "kobo.1.1"
    assert text.span_at_offset(7) == "kobo.1.2"


def test_html_that_is_not_xml_is_recovered() -> None:
    body = parse_body(b"<html><body><p>one<br>two<p>three &eacute; &bogus;</body></html>")
    text = ChapterText(body)
    assert offset(text, "/body/DocFragment/body/p[2]/text().0") == len("onetwo")
    assert "é" in text_of(body)


def test_byte_order_mark_and_declared_encoding_are_honoured() -> None:
    latin = '<?xml version="1.0" encoding="iso-8859-1"?><html><body><p>caf\xe9</p></body></html>'
    assert text_of(parse_body(latin.encode("latin-1"))) == "café"
    assert text_of(parse_body(b"\xef\xbb\xbf<html><body><p>x</p></body></html>")) == "x"


def test_external_entities_are_never_resolved() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        b"<html><body><p>a&secret;b</p></body></html>"
    )
    assert "root:" not in text_of(parse_body(hostile))
