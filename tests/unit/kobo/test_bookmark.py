from __future__ import annotations

import pytest

from adapters.kobo.bookmark import split_bookmark


@pytest.mark.parametrize(
    ("raw", "zip_path", "span"),
    [
        ("OEBPS/Text/12_Chapter05.xhtml#kobo.115.1", "OEBPS/Text/12_Chapter05.xhtml", "kobo.115.1"),
        ("index_split_004.html#kobo.49.3", "index_split_004.html", "kobo.49.3"),
        ("Text/a b 'c'.xhtml#kobo.0.1", "Text/a b 'c'.xhtml", "kobo.0.1"),
        ("OEBPS/cha01.xhtml#point(/1/4/8/7:211)", "OEBPS/cha01.xhtml", None),
        ("#pdfloc(1ef4,8)&zoom=1&x=243&y=400", None, None),
        ("#", None, None),
        ("OEBPS/Text/no-anchor.xhtml", None, None),
        ("file:///mnt/onboard/X/Y.epub#(6)OEBPS/cha01.xhtml", None, None),
        ("OEBPS/x.xhtml#kobo.12", "OEBPS/x.xhtml", None),
    ],
)
def test_split_keeps_raw_and_finds_path_and_span_where_they_apply(
    raw: str, zip_path: str | None, span: str | None
) -> None:
    bookmark = split_bookmark(raw)
    assert (bookmark.raw, bookmark.zip_path, bookmark.span) == (raw, zip_path, span)


def test_adobe_bookmarks_keep_their_point_path() -> None:
    bookmark = split_bookmark("OEBPS/text/content0031.xhtml#point(/1/4/2/1:0)")
    assert (bookmark.zip_path, bookmark.point) == ("OEBPS/text/content0031.xhtml", "/1/4/2/1:0")
    assert split_bookmark("OEBPS/x.xhtml#kobo.1.1").point is None


def test_no_bookmark() -> None:
    assert split_bookmark(None).raw is None
