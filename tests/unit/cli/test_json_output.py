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
