"""Parse and serialize are inverse: KOReader files come back byte for byte, tables value for value."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.koreader.lua_values import LuaKey, LuaTable, LuaValue
from adapters.koreader.lua_writer import render_settings_file
from tests.unit.koreader.lua_reference import reference_rewrite
from tests.unit.koreader.samples import ALL_SAMPLES, header_path
from tests.unit.koreader.strategies import strict, tables

SANDBOX = LuaSandbox()
HEADER = "/mnt/onboard/books/Book.sdr/metadata.epub.lua"


def dig(value: LuaValue, *keys: LuaKey) -> LuaValue:
    """``value[key][key]...``, checking at each step that there is a table to look into."""
    for key in keys:
        assert isinstance(value, dict), f"no table to look up {key!r} in: {value!r}"
        value = value[key]
    return value


@pytest.mark.parametrize("name", sorted(ALL_SAMPLES))
def test_samples_are_in_koreaders_exact_format(name: str) -> None:
    sample = ALL_SAMPLES[name]
    assert reference_rewrite(sample, header_path(sample)) == sample


@pytest.mark.parametrize("name", sorted(ALL_SAMPLES))
def test_a_koreader_file_is_rewritten_byte_for_byte(name: str) -> None:
    sample = ALL_SAMPLES[name]
    assert render_settings_file(SANDBOX.load_text(sample, name), header_path(sample)) == sample


def test_parsed_values_keep_their_lua_types() -> None:
    parsed = SANDBOX.load_text(ALL_SAMPLES["pdf_paging"], "pdf")
    mixed = parsed["mixed"]
    assert isinstance(mixed, dict)
    assert set(mixed) == {-3, 1, 2.5, 10, "ab", "zz"}
    assert strict(dig(parsed, "annotations", 1, "pboxes", 1, "y")) == strict(-0.0)
    legacy = SANDBOX.load_text(ALL_SAMPLES["legacy_bookmarks"], "legacy")
    assert dig(legacy, "bookmarks", 1, "text") == "my note\x00with a NUL and \x001 digits"
    assert dig(legacy, "highlight", 10) == {}
    highlight = dig(legacy, "highlight")
    assert isinstance(highlight, dict) and "10" not in highlight


def test_strings_that_are_not_utf8_come_back_as_the_same_bytes() -> None:
    text = b'-- x\nreturn {\n    ["title"] = "Caf\xe9 cr\xe8me",\n}\n'
    parsed = SANDBOX.load_text(text, "latin1")
    assert parsed == {"title": b"Caf\xe9 cr\xe8me"}
    assert render_settings_file(parsed, "x") == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_any_table_survives_serialize_then_parse(table: LuaTable) -> None:
    content = render_settings_file(table, HEADER)
    assert strict(SANDBOX.load_text(content, "generated")) == strict(table)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_rewriting_a_written_file_gives_the_same_bytes(table: LuaTable) -> None:
    content = render_settings_file(table, HEADER)
    assert render_settings_file(SANDBOX.load_text(content, "generated"), HEADER) == content


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_the_writer_agrees_with_koreaders_algorithm_run_in_luajit(table: LuaTable) -> None:
    content = render_settings_file(table, HEADER)
    assert reference_rewrite(content, HEADER) == content
