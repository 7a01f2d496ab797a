"""Parsing KOReader xpointers in every form crengine writes or accepts."""

from __future__ import annotations

import pytest

from adapters.epub.xpointer import Step, XPointer, fragment_prefix, index_suffix, parse_xpointer


def test_element_only_pointer() -> None:
    assert parse_xpointer("/body/DocFragment[12]/body/div/p[15]") == XPointer(
        12, (Step("body"), Step("div"), Step("p", 15)), None
    )


def test_text_pointer_with_character_offset() -> None:
    parsed = parse_xpointer("/body/DocFragment[3]/body/p[2]/text().42")
    assert parsed == XPointer(3, (Step("body"), Step("p", 2), Step("text()")), 42)
    assert parsed.steps[-1].is_text


def test_indexed_text_node_and_always_one_form() -> None:
    parsed = parse_xpointer("/body/DocFragment[1]/body[1]/div[1]/p[1]/text()[2].7")
    assert parsed == XPointer(1, (Step("body"), Step("div"), Step("p"), Step("text()", 2)), 7)


def test_single_fragment_book_omits_the_index() -> None:
    assert parse_xpointer("/body/DocFragment/body") == XPointer(1, (Step("body"),), None)


def test_numeric_child_step_and_element_point() -> None:
    assert parse_xpointer("/body/DocFragment[2]/body/3.1") == XPointer(2, (Step("body"), Step(None, 3)), 1)


def test_names_are_lower_cased() -> None:
    parsed = parse_xpointer("/body/DocFragment[2]/body/DIV/P[2]")
    assert parsed is not None and parsed.steps[1:] == (Step("div"), Step("p", 2))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "#_doc_fragment_3",
        "/body/p[1]",
        "/html/DocFragment[1]/body",
        "/body/DocFragment[0]/body",
        "/body/DocFragment[2]/body/p[x]",
        "/body/DocFragment[2]/body/p.3/span",
        "body/DocFragment[2]/body",
    ],
)
def test_what_is_not_a_fragment_path_is_refused(text: str) -> None:
    assert parse_xpointer(text) is None


def test_normalized_indexes() -> None:
    assert index_suffix(1, 1) == ""
    assert index_suffix(1, 2) == "[1]"
    assert index_suffix(3, 3) == "[3]"
    assert fragment_prefix(1, 1) == "/body/DocFragment"
    assert fragment_prefix(4, 9) == "/body/DocFragment[4]"
