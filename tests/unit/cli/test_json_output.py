"""``--json`` output: readable on a terminal, one compact line for the program that reads a pipe."""

from __future__ import annotations

import io
import json
import sys

import pytest

from entrypoints.cli.terminal import emit_json

DOCUMENT = {"books": [{"title": "Tír na nÓg", "percent": 52.9, "notes": []}], "pushed": 0}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_json_is_one_line_that_reads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", piped)
    emit_json(DOCUMENT)
    text = piped.getvalue()
    assert text.count("\n") == 1
    assert json.loads(text) == DOCUMENT
    assert "Tír na nÓg" in text  # not escaped


def test_json_on_a_terminal_is_indented(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    emit_json(DOCUMENT)
    text = terminal.getvalue()
    assert '\n  "books": [' in text
    assert json.loads(text) == DOCUMENT


@pytest.mark.parametrize("books", [[], DOCUMENT["books"], [{"n": n} for n in range(3)]], ids=["0", "1", "3"])
@pytest.mark.parametrize("out", [io.StringIO, _Terminal], ids=["piped", "terminal"])
def test_books_given_one_by_one_read_back_as_the_whole_list(
    monkeypatch: pytest.MonkeyPatch, books: list[dict[str, object]], out: type[io.StringIO]
) -> None:
    """The CLI hands a report's books over as they are made, so no command holds all of them as
    JSON at once; what a program reads is the same document."""
    stream = out()
    monkeypatch.setattr(sys, "stdout", stream)
    emit_json({"books": iter(books), "summary": {"books": len(books)}})
    assert json.loads(stream.getvalue()) == {"books": books, "summary": {"books": len(books)}}


def test_an_empty_document_is_an_empty_object(monkeypatch: pytest.MonkeyPatch) -> None:
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", piped)
    emit_json({})
    assert piped.getvalue() == "{}\n"
