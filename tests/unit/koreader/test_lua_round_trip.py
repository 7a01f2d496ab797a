"""Parse and serialize are inverse: KOReader files come back byte for byte, tables value for value."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.koreader.lua_writer import render_settings_file
from tests.unit.koreader.lua_reference import reference_rewrite
from tests.unit.koreader.samples import ALL_SAMPLES, header_path
from tests.unit.koreader.strategies import strict, tables

SANDBOX = LuaSandbox()
HEADER = "/mnt/onboard/books/Book.sdr/metadata.epub.lua"


@pytest.mark.parametrize("name", sorted(ALL_SAMPLES))
def test_samples_are_in_koreaders_exact_format(name):
    sample = ALL_SAMPLES[name]
    assert reference_rewrite(sample, header_path(sample)) == sample


@pytest.mark.parametrize("name", sorted(ALL_SAMPLES))
def test_a_koreader_file_is_rewritten_byte_for_byte(name):
    sample = ALL_SAMPLES[name]
    assert render_settings_file(SANDBOX.load_text(sample, name), header_path(sample)) == sample


def test_parsed_values_keep_their_lua_types():
    parsed = SANDBOX.load_text(ALL_SAMPLES["pdf_paging"], "pdf")
    mixed = parsed["mixed"]
    assert isinstance(mixed, dict)
    assert set(mixed) == {-3, 1, 2.5, 10, "ab", "zz"}
    box = parsed["annotations"][1]["pboxes"][1]  # type: ignore[index]
    assert strict(box["y"]) == strict(-0.0)
    legacy = SANDBOX.load_text(ALL_SAMPLES["legacy_bookmarks"], "legacy")
    assert legacy["bookmarks"][1]["text"] == "my note\x00with a NUL and \x001 digits"  # type: ignore[index]
    assert legacy["highlight"][10] == {}  # type: ignore[index]
    assert "10" not in legacy["highlight"]  # type: ignore[operator]


def test_strings_that_are_not_utf8_come_back_as_the_same_bytes():
    text = b'-- x\nreturn {\n    ["title"] = "Caf\xe9 cr\xe8me",\n}\n'
    parsed = SANDBOX.load_text(text, "latin1")
    assert parsed == {"title": b"Caf\xe9 cr\xe8me"}
    assert render_settings_file(parsed, "x") == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_any_table_survives_serialize_then_parse(table):
    content = render_settings_file(table, HEADER)
    assert strict(SANDBOX.load_text(content, "generated")) == strict(table)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_rewriting_a_written_file_gives_the_same_bytes(table):
    content = render_settings_file(table, HEADER)
    assert render_settings_file(SANDBOX.load_text(content, "generated"), HEADER) == content


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_the_writer_agrees_with_koreaders_algorithm_run_in_luajit(table):
    content = render_settings_file(table, HEADER)
    assert reference_rewrite(content, HEADER) == content
