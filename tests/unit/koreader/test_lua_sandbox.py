"""Hostile or broken files are refused with a clear ``SidecarError``; nothing in them runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from adapters.koreader.lua_sandbox import MAX_FILE_BYTES, LuaSandbox
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from application.errors import SidecarError

SANDBOX = LuaSandbox()
QUICK_SECONDS = 5.0
# Only a guard against a hang: a file on the time limit is refused within about TIME_LIMIT_SECONDS + 1.
HANG_SECONDS = 30.0
# Each ``s < t`` compares two 32 MiB strings: a few ms per instruction, hours for the whole budget.
SLOW_COMPARISONS = (
    b'local s = "xxxxxxxxxxxxxxxx" for i = 1, 21 do s = s .. s end '
    b'local t = s .. "y" while s < t do end return {}'
)  # 108 bytes


def string_of_mib(mib: int) -> bytes:
    """Lua that builds ``s``, a string of ``mib`` MiB (a power of two), by doubling 16 bytes."""
    doublings = (mib * 1024 * 1024 // 16).bit_length() - 1
    return b'local s = "xxxxxxxxxxxxxxxx" for i = 1, %d do s = s .. s end ' % doublings


def refusal(text: bytes, name: str = "/books/Hostile.sdr/metadata.epub.lua") -> str:
    """The one-line message for a refused file; fails the test if it takes too long."""
    started = time.monotonic()
    with pytest.raises(SidecarError) as caught:
        SANDBOX.load_text(text, name)
    assert time.monotonic() - started < QUICK_SECONDS
    message = str(caught.value)
    assert "\n" not in message
    assert name in message
    return message


def test_os_execute_is_not_reachable(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    assert "'os'" in refusal(f'os.execute("touch {marker}") return {{a = 1}}'.encode())
    assert not marker.exists()


def test_io_open_is_not_reachable(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    assert "'io'" in refusal(f'io.open("{victim}", "w"):write("x") return {{a = 1}}'.encode())
    assert not victim.exists()


@pytest.mark.parametrize(
    "name",
    # table.concat and string.format would be slow single calls the count hook cannot interrupt;
    # pcall would let the chunk catch the hook's error and carry on.
    [
        "require",
        "dofile",
        "load",
        "loadstring",
        "debug",
        "string",
        "table",
        "getmetatable",
        "pcall",
        "xpcall",
    ],
)
def test_no_global_function_is_reachable(name: str) -> None:
    assert f"'{name}'" in refusal(f"local f = {name} return {{a = 1}}".encode())


def test_string_methods_are_not_reachable() -> None:
    assert "index a string" in refusal(b'local s = ("x"):rep(10) return {s = s}')


def test_an_endless_loop_stops_on_the_instruction_budget() -> None:
    assert "runs too long" in refusal(b"while true do end")


def test_a_budget_smaller_than_the_hook_interval_still_stops_a_loop() -> None:
    small = LuaSandbox(instruction_budget=10)
    with pytest.raises(SidecarError, match="instruction budget"):
        small.load_text(b"while true do end", "tiny budget")


@pytest.mark.slow
def test_slow_instructions_stop_on_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(SidecarError, match=r"runs too long \(took more than \d+ seconds\)") as caught:
        SANDBOX.load_text(SLOW_COMPARISONS, "/books/Hostile.sdr/metadata.epub.lua")
    assert time.monotonic() - started < HANG_SECONDS
    assert "/books/Hostile.sdr/metadata.epub.lua" in str(caught.value)
    assert SANDBOX.load_text(b"return {after = true}", "next") == {"after": True}


@pytest.mark.parametrize(
    "source",
    [
        # Each concatenation copies 32 MiB, then drops it: the memory limit never trips.
        string_of_mib(32) + b'while true do local u = s .. "y" end',
        # Three operands in one instruction (three of 32 MiB would hit the memory limit).
        string_of_mib(16) + b"while true do local u = s .. s .. s end",
    ],
)
@pytest.mark.slow
def test_slow_concatenations_stop_on_the_time_limit(source: bytes) -> None:
    quick = LuaSandbox(time_limit_seconds=1)
    started = time.monotonic()
    with pytest.raises(SidecarError, match="took more than 1 seconds"):
        quick.load_text(source, "concat")
    assert time.monotonic() - started < HANG_SECONDS


def test_a_sidecar_with_5000_annotations_still_reads() -> None:
    annotations: LuaTable = {
        index: {
            "chapter": f"Chapter {index // 40}",
            "datetime": "2026-02-20 18:08:13",
            "note": f"Note {index}\nsecond line",
            "pageno": index,
            "pos0": f"/body/DocFragment[{index}]/body/p[7]/text().0",
            "pos1": f"/body/DocFragment[{index}]/body/p[8]/text().112",
            "text": "I must not fear. Fear is the mind-killer. " * 4,
        }
        for index in range(1, 5001)
    }
    table: LuaTable = {
        "annotations": annotations,
        "doc_path": "/mnt/onboard/books/Dune.epub",
        "percent_finished": 0.5,
    }
    text = render_settings_file(table, "/mnt/onboard/books/Dune.sdr/metadata.epub.lua")
    assert SANDBOX.load_text(text, "metadata.epub.lua") == table


def test_an_endless_recursion_stops() -> None:
    refusal(b"local function f() return f() end return f()")


def test_a_growing_string_stops_on_the_memory_limit() -> None:
    message = refusal(b'local s = "xxxxxxxxxxxxxxxx" while true do s = s .. s end')
    assert "memory" in message or "runs too long" in message
    assert SANDBOX.load_text(b"return {after = true}", "next") == {"after": True}


def test_ten_thousand_nested_tables_in_the_source_are_refused() -> None:
    refusal(b"return " + b"{" * 10_000 + b"}" * 10_000)


def test_ten_thousand_nested_tables_built_by_a_loop_are_refused() -> None:
    assert "deeper" in refusal(b"local t = {} for i = 1, 10000 do t = {t} end return t")


def test_a_table_containing_itself_is_refused() -> None:
    assert "same table" in refusal(b"local t = {} t.me = t return t")


def test_a_shared_table_that_would_explode_when_copied_is_refused() -> None:
    refusal(b"local a = {1} for i = 1, 60 do a = {a, a} end return a")


def test_a_syntax_error_names_the_line() -> None:
    assert ":2:" in refusal(b'return {\n    ["a"] = = 1,\n}')


@pytest.mark.parametrize("source", [b"return 1", b'return "text"', b"return nil", b"", b"-- only a comment"])
def test_a_file_that_returns_no_table_is_refused(source: bytes) -> None:
    assert "not a table" in refusal(source)


def test_an_empty_table_is_refused_because_koreader_deletes_it() -> None:
    assert "empty table" in refusal(b"return {}")


def test_an_empty_table_is_fine_where_the_caller_allows_it() -> None:
    assert SANDBOX.load_text(b"return {}", "history.lua", allow_empty=True) == {}


@pytest.mark.parametrize("literal", [b"nan", b"inf", b"-inf"])
def test_nan_and_inf_as_koreader_writes_them_are_refused(literal: bytes) -> None:
    assert "undefined name" in refusal(b'return {\n    ["x"] = ' + literal + b",\n}")


@pytest.mark.parametrize("expression", [b"0/0", b"1/0", b"-1/0"])
def test_computed_nan_and_inf_are_refused(expression: bytes) -> None:
    assert "NaN or infinite" in refusal(b"return {x = " + expression + b"}")


@pytest.mark.parametrize("expression", [b"1/0", b"-1/0"])
def test_infinite_keys_are_refused(expression: bytes) -> None:
    assert "infinite number as a table key" in refusal(b"return {a = {[" + expression + b"] = 1}}")


def test_a_nan_key_is_refused_by_lua_itself() -> None:
    assert "table index is NaN" in refusal(b"local t = {a = 1} t[0/0] = 1 return t")


def test_precompiled_bytecode_is_refused() -> None:
    assert "bytecode" in refusal(b"\x1bLJ\x02\x00\x00")


def test_bytecode_is_refused_by_load_mode_too() -> None:
    # Even without the cheap prefix check, load(..., "t") refuses a binary chunk.
    sandbox = LuaSandbox()
    assert "bytecode" in refusal(b"\x1bLJ\x02")
    with pytest.raises(SidecarError, match="wrong mode"):
        sandbox._load_locked(b"\x1bLJ\x02", "raw", False)


def test_functions_and_boolean_keys_are_not_data() -> None:
    assert "function" in refusal(b"return {f = function() end}")
    assert "table key" in refusal(b"return {[true] = 1}")


def test_assigning_globals_is_refused() -> None:
    assert "assigns" in refusal(b"x = 1 return {a = 1}")


def test_a_100_mb_file_is_refused_by_its_size_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "metadata.epub.lua"
    with huge.open("wb") as stream:
        stream.truncate(100 * 1024 * 1024)  # sparse: no 100 MB actually written
    started = time.monotonic()
    with pytest.raises(SidecarError, match="more than") as caught:
        SANDBOX.load_file(huge)
    assert time.monotonic() - started < 0.5
    assert str(huge) in str(caught.value)


def test_text_over_the_size_limit_is_refused() -> None:
    refusal(b"return {}" + b" " * MAX_FILE_BYTES)


def test_a_missing_file_is_a_sidecar_error(tmp_path: Path) -> None:
    with pytest.raises(SidecarError, match="cannot be read"):
        SANDBOX.load_file(tmp_path / "absent.lua")


def test_the_sandbox_keeps_working_after_every_kind_of_refusal() -> None:
    for hostile in (
        b"while true do end",
        b"return 1",
        b"return {",
        b'local s = "xx" while true do s = s .. s end',
    ):
        with pytest.raises(SidecarError):
            SANDBOX.load_text(hostile, "hostile")
        assert SANDBOX.load_text(b'return {["ok"] = 1}', "fine") == {"ok": 1}
