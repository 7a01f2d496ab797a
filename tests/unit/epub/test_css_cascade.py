"""The display/float cascade behind old-DOM wrappers: what is evaluated, what is only doubted."""

from __future__ import annotations

from lxml import etree

from adapters.epub.css_cascade import ChapterStyles, parse_selector

HTML = """<html><body>
<div id="a" class="box"><p id="p1" class="x">one</p><p id="p2">two</p>
<span id="s1" style="float: right">s</span></div>
<h2 id="h"/><p id="p3">three</p><p id="p4">four</p>
</body></html>"""


def styles(*sheets: str, old: bool = False) -> tuple[ChapterStyles, dict[str, etree._Element]]:
    root = etree.fromstring(HTML)
    body = root.find("body")
    assert body is not None
    by_id = {str(e.get("id")): e for e in root.iter() if e.get("id")}
    return ChapterStyles(body, list(sheets), old_defaults=old), by_id


def test_specificity_order_importance_and_inline_style_decide() -> None:
    css, e = styles("p { display: inline } .x { display: block } p { float: left }", "div p { float: none }")
    assert css.declared(e["p1"]) == {"display": "block", "float": "none"}
    assert css.declared(e["p3"]) == {"display": "inline", "float": "left"}
    assert css.declared(e["s1"]) == {"float": "right"}
    css, e = styles("p { display: inline !important } #p1 { display: block }")
    assert css.declared(e["p1"]) == {"display": "inline"}


def test_child_and_sibling_combinators_are_evaluated() -> None:
    css, e = styles("div.box > p { float: left } h2 + p { display: inline } h2 ~ p { float: right }")
    assert css.declared(e["p1"])["float"] == "left"
    assert css.declared(e["p3"]) == {"display": "inline", "float": "right"}
    assert css.declared(e["p4"]) == {"float": "right"}


def test_unevaluated_parts_make_a_superset_doubtful_not_everything() -> None:
    css, e = styles("div.box > p:first-child { display: inline } @media screen { h2 { float: left } }")
    assert css.is_doubtful(e["p1"]) and css.is_doubtful(e["p2"])
    assert not css.is_doubtful(e["p3"])
    assert css.is_doubtful(e["h"])
    assert css.declared(e["p1"]) == {}
    selector, exact = parse_selector("a[href] + p::first-line")
    assert not exact and len(selector.compounds) == 2


def test_old_dom_defaults_make_images_blocks_outside_paragraphs() -> None:
    root = etree.fromstring("<html><body><div><img id='i1'/></div><p><img id='i2'/></p></body></html>")
    body = root.find("body")
    assert body is not None
    css = ChapterStyles(body, [], old_defaults=True)
    images = {str(e.get("id")): e for e in root.iter("img")}
    assert css.declared(images["i1"]) == {"display": "block"}
    assert css.declared(images["i2"]) == {"display": "inline"}
    assert ChapterStyles(body, [], old_defaults=False).declared(images["i1"]) == {}
