"""koboSpan numbering by the kepubify rules of kobo.md §4.2."""

from __future__ import annotations

from lxml import etree

from adapters.epub.kobo_spans import add_kobo_spans, sentence_fragments

XHTML = "http://www.w3.org/1999/xhtml"


def text_of(element: etree._Element) -> str:
    return "".join(str(t) for t in element.itertext())


def spans_of(body_markup: str) -> list[tuple[str, str]]:
    """(id, text) of every koboSpan after numbering ``<body>body_markup</body>``."""
    root = etree.fromstring(f'<html xmlns="{XHTML}"><body>{body_markup}</body></html>')
    body = root[0]
    add_kobo_spans(body)
    return [
        (str(span.get("id")), text_of(span) or f"<{etree.QName(span[0]).localname}>")
        for span in body.iter(f"{{{XHTML}}}span")
    ]


def ids_of(body_markup: str) -> list[str]:
    return [span_id for span_id, _ in spans_of(body_markup)]


def test_paragraph_sentences_share_a_paragraph_number() -> None:
    assert spans_of("<p>One. Two? Three!</p><p>Four</p>") == [
        ("kobo.1.1", "One. "),
        ("kobo.1.2", "Two? "),
        ("kobo.1.3", "Three!"),
        ("kobo.2.1", "Four"),
    ]


def test_text_before_the_first_block_is_paragraph_zero() -> None:
    assert ids_of("<div>Loose text. More.</div><p>Then</p>") == ["kobo.0.1", "kobo.0.2", "kobo.1.1"]


def test_list_items_share_a_number_and_nested_lists_start_a_new_one() -> None:
    markup = "<ul><li>a</li><li>b<ol><li>c</li><li>d</li></ol></li><li>e</li></ul><p>f</p>"
    assert ids_of(markup) == ["kobo.1.1", "kobo.1.2", "kobo.2.1", "kobo.2.2", "kobo.2.3", "kobo.3.1"]


def test_table_cells_share_a_number() -> None:
    assert ids_of("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == [
        "kobo.1.1",
        "kobo.1.2",
        "kobo.1.3",
    ]


def test_each_image_gets_its_own_number_and_text_continues_it() -> None:
    assert spans_of('<p>Text</p><p><img src="a.png"/> caption</p><div><img src="b.png"/></div>') == [
        ("kobo.1.1", "Text"),
        ("kobo.2.1", "<img>"),
        ("kobo.2.2", " caption"),
        ("kobo.3.1", "<img>"),
    ]


def test_headings_arm_a_new_paragraph() -> None:
    assert ids_of("<h1>Title</h1><h2>Sub</h2><p>Body</p>") == ["kobo.1.1", "kobo.2.1", "kobo.3.1"]


def test_whitespace_is_wrapped_only_directly_under_p() -> None:
    spans = spans_of("<div>\n  <p><b>a</b> <i>b</i></p>\n</div>")
    assert spans == [("kobo.1.1", "a"), ("kobo.1.2", " "), ("kobo.1.3", "b")]


def test_script_style_pre_svg_and_math_are_left_alone() -> None:
    markup = (
        "<p>x</p><pre>code. more.</pre><script>var a = 1;</script><style>p {}</style>"
        '<svg xmlns="http://www.w3.org/2000/svg"><text>svg</text></svg><p>y</p>'
    )
    assert spans_of(markup) == [("kobo.1.1", "x"), ("kobo.2.1", "y")]


def test_inline_markup_keeps_its_place_and_tails_are_wrapped() -> None:
    root = etree.fromstring(f'<html xmlns="{XHTML}"><body><p>Go <em>now</em>, friend.</p></body></html>')
    add_kobo_spans(root[0])
    text = text_of(root[0])
    assert text == "Go now, friend."
    assert [e.get("id") for e in root.iter(f"{{{XHTML}}}span")] == ["kobo.1.1", "kobo.1.2", "kobo.1.3"]
    emphasis = root.find(f".//{{{XHTML}}}em/{{{XHTML}}}span")
    assert emphasis is not None and emphasis.get("id") == "kobo.1.2"


def test_body_is_wrapped_in_book_columns() -> None:
    root = etree.fromstring(f'<html xmlns="{XHTML}"><body><p>a</p></body></html>')
    add_kobo_spans(root[0])
    columns = root[0][0]
    assert (columns.get("id"), columns[0].get("id")) == ("book-columns", "book-inner")
    assert len(root[0]) == 1


def test_a_chapter_that_already_has_spans_is_left_alone() -> None:
    markup = f'<html xmlns="{XHTML}"><body><p><span id="kobo.7.1">x</span> y</p></body></html>'
    root = etree.fromstring(markup)
    add_kobo_spans(root[0])
    assert etree.tostring(root, encoding="unicode") == markup


def test_sentence_fragments_keep_whitespace_with_the_sentence() -> None:
    assert sentence_fragments('He said "Stop." Then… left!  Done') == [
        'He said "Stop." ',
        "Then… ",
        "left!  ",
        "Done",
    ]
    assert sentence_fragments("   ") == ["   "]
