"""``kksync annotations`` and the ``annotations`` part of ``kksync sync --json``, as a person runs them,
on the real fw 4.38 database with its four real highlights (tests/support/annotated_fixture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli.devices import json_document, kksync, sync_json
from tests.e2e.cli.real_fixture import ART_OF_WAR
from tests.support.annotated_fixture import annotated_fixture_device

BOOK = ART_OF_WAR.book_id


@pytest.fixture
def device(tmp_path: Path) -> Path:
    root = tmp_path / "KOBOeReader"
    annotated_fixture_device(root)
    return root


def test_the_listing_shows_nickels_highlights_in_reading_order_and_writes_nothing(device: Path) -> None:
    database = device / ".kobo" / "KoboReader.sqlite"
    before = database.read_bytes()
    result = kksync("annotations", "--book", BOOK, "--json", "--device", device)
    assert result.returncode == 0, result.stderr
    (book,) = json_document(result)["books"]
    assert book["book_id"] == BOOK and book["unplaced"] == []
    listed = book["annotations"]
    assert [entry["sides"] for entry in listed] == [["kobo"]] * 4
    assert [entry["text"][:12] for entry in listed] == [
        "It is obviou",
        " The attribu",
        "The story of",
        "The followin",
    ]
    assert [entry["note"] for entry in listed] == ["Such a cool quote! Amazing!", None, None, "Test"]
    assert [entry["start"]["offset"] for entry in listed] == sorted(
        entry["start"]["offset"] for entry in listed
    )
    assert database.read_bytes() == before


def test_after_a_sync_both_sides_hold_them_and_markdown_is_ready_to_paste(device: Path) -> None:
    report = sync_json(device, "--book", BOOK)
    (book,) = report["books"]
    annotations = book["annotations"]
    assert (annotations["added_to_koreader"], annotations["added_to_kobo"]) == (4, 0)
    assert annotations["conflicts"] == [] and annotations["written"] is True
    again = sync_json(device, "--book", BOOK)["books"][0]["annotations"]
    assert again["changes"] == [] and again["written"] is False
    listing = json_document(kksync("annotations", "--book", BOOK, "--json", "--device", device))
    assert [entry["sides"] for entry in listing["books"][0]["annotations"]] == [["kobo", "koreader"]] * 4
    result = kksync("annotations", "--book", BOOK, "--markdown", "--device", device)
    assert result.returncode == 0, result.stderr
    markdown = result.stdout
    assert markdown.startswith("# The Art of War\n\n*Sun Tzu*\n")
    assert "## translators-intro-1.xhtml" in markdown
    assert "> It is obvious enough that Ssǔ-ma Chʽien" in markdown
    assert "\n\nSuch a cool quote! Amazing!\n" in markdown and "\n\nTest\n" in markdown


def test_without_book_every_book_with_annotations_is_listed(device: Path) -> None:
    result = kksync("annotations", "--device", device)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("annotations") == 1 and "4 annotations" in result.stdout
    assert "[Kobo] translators-intro-1.xhtml" in result.stdout


def test_an_unknown_book_and_two_formats_are_usage_errors(device: Path) -> None:
    unknown = kksync("annotations", "--book", "nope", "--device", device)
    assert unknown.returncode == 1 and "--book 'nope' fits no book on this Kobo" in unknown.stderr
    both = kksync("annotations", "--json", "--markdown", "--device", device)
    assert both.returncode == 1 and "cannot be used together" in both.stderr
