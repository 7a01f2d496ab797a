"""The writer produces KOReader's bytes: checked against the facts page and against LuaJIT itself."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.koreader.lua_writer import dump_value, format_number, quote_string, render_settings_file
from tests.unit.koreader.lua_reference import luajit_expression, luajit_number, luajit_quote


def test_quoting_matches_the_luajit_example_from_the_facts_page() -> None:
    raw = b"a\x7fb\x1b5c\x1bd\r\n\t9\x01"
    assert quote_string(raw) == b'"a\\127b\\0275c\\27d\\13\\\n\\0099\\1"'


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        (b'say "hi"', b'"say \\"hi\\""'),
        (b"C:\\books", b'"C:\\\\books"'),
        (b"line\nnext", b'"line\\\nnext"'),
        (b"\n1", b'"\\\n1"'),
        (b"\x00", b'"\\0"'),
        (b"\x0099", b'"\\00099"'),
        (b"\t\x7f", b'"\\9\\127"'),
        ("café — 📖".encode(), '"café — 📖"'.encode()),
        (b"\xff\xfe raw", b'"\xff\xfe raw"'),
    ],
)
def test_strings_are_escaped_like_luajit(raw: bytes, written: bytes) -> None:
    assert quote_string(raw) == written


@pytest.mark.parametrize(
    ("number", "written"),
    [
        (1712345678, b"1712345678"),
        (1.0, b"1"),
        (1 / 3, b"0.33333333333333"),
        (0.12345678901234567, b"0.12345678901235"),
        (1e-5, b"1e-05"),
        (1e15, b"1e+15"),
        (123456789012345, b"1.2345678901234e+14"),
        (2**53, b"9.007199254741e+15"),
        (-0.0, b"-0"),
        (25 / 417, b"0.059952038369305"),
    ],
)
def test_numbers_print_with_fourteen_significant_digits(number: int | float, written: bytes) -> None:
    assert format_number(number) == written


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_numbers_koreader_could_not_read_back_are_refused(number: int | float) -> None:
    with pytest.raises(ValueError):
        format_number(number)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_quoting_agrees_with_luajit_for_any_bytes(raw: bytes) -> None:
    assert quote_string(raw) == luajit_quote(raw)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**60), 2**60)))
def test_numbers_agree_with_luajit_tostring(number: int | float) -> None:
    assert format_number(number) == luajit_number(number)


@pytest.mark.parametrize("expression", ["2^63", "1e300*10", "-1e-310", "2^-1074", "100", "-7"])
def test_extreme_numbers_agree_with_luajit(expression: str) -> None:
    value = eval(expression.replace("^", "**"))  # the same double on both sides
    assert format_number(value) == luajit_expression(expression)


def test_an_empty_table_is_written_as_braces() -> None:
    assert dump_value({}) == b"{}"


def test_tables_use_brackets_explicit_indexes_trailing_commas_and_four_spaces() -> None:
    written = dump_value({"list": {1: "a", 2: {}}, "flag": True, "off": False})
    assert written == (
        b'{\n    ["flag"] = true,\n    ["list"] = {\n        [1] = "a",\n        [2] = {},\n    },'
        b'\n    ["off"] = false,\n}'
    )


def test_keys_sort_numbers_numerically_and_mixed_types_by_their_text() -> None:
    order = dump_value({"b": 1, 10: 1, 9: 1, -1: 1, 2.5: 1, "B": 1, "a": 1}).split(b"\n")[1:-1]
    assert [line.split(b"]")[0].strip() for line in order] == [
        b"[-1",
        b"[2.5",
        b"[9",
        b"[10",
        b'["B"',
        b'["a"',
        b'["b"',
    ]


def test_string_keys_sort_by_utf8_bytes_not_by_code_points() -> None:
    # U+FF5E sorts after U+10000 in UTF-16 but before it in UTF-8 bytes, which LuaJIT compares.
    written = dump_value({"\U00010000": 1, "\uff5e": 2, "z": 3})
    assert written.index(b"z") < written.index("\uff5e".encode()) < written.index("\U00010000".encode())


def test_integer_and_string_keys_of_the_same_digits_stay_distinct() -> None:
    assert dump_value({2: "int", "2": "text"}) == b'{\n    [2] = "int",\n    ["2"] = "text",\n}'


def test_a_file_has_the_header_the_return_and_a_final_newline() -> None:
    content = render_settings_file({"a": 1}, "./docsettings/mnt/onboard/x.sdr/metadata.epub.lua")
    assert content == b'-- ./docsettings/mnt/onboard/x.sdr/metadata.epub.lua\nreturn {\n    ["a"] = 1,\n}\n'


def test_values_kksync_cannot_represent_are_refused() -> None:
    with pytest.raises(ValueError):
        dump_value({"f": None})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        dump_value({True: 1})
