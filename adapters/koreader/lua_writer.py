"""Serialize a table exactly the way KOReader writes its sidecars (docs/reference/koreader.md §3).

KOReader rewrites a sidecar from memory on every save, so any byte we write differently would show
up as a diff the next time KOReader saves, and anything it cannot re-read is deleted. Matching its
writer byte for byte means a pull changes only the keys kksync owns.

Rules reproduced here (KOReader's ordered ``dump`` on LuaJIT 2.1):

- ``-- <path>`` header line, then ``return `` and the table, then a newline;
- every key bracketed, arrays written as explicit ``[1] = ...``, 4 spaces per level, a trailing
  comma after every entry, ``{}`` for an empty table;
- keys sorted: same Lua type with ``<`` (numbers numerically, strings bytewise), different types by
  their ``tostring`` forms;
- strings as LuaJIT's ``%q``, numbers as ``%.14g``, booleans as ``true``/``false``.

Known limit: a table mixing number keys with string keys that look like numbers (``[1]`` next to
``["1"]``) has no well-defined order even in KOReader (its comparator is not a total order there,
so the result depends on Lua's hash order); such tables are written in a stable order of our own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cmp_to_key

from adapters.koreader.lua_values import MAX_NESTING, LuaKey, LuaValue, lua_string_bytes

INDENT = b"    "

# A control byte followed by a digit must be written with three digits so the digit is not read
# as part of the escape; every other control byte uses as few digits as needed.
_ESCAPED = re.compile(rb'(?P<before_digit>[\x00-\x09\x0b-\x1f\x7f])(?=[0-9])|[\x00-\x1f\x7f"\\]')


def _escape(match: re.Match[bytes]) -> bytes:
    byte = match.group(0)[0]
    if match.group("before_digit") is not None:
        return b"\\%03d" % byte
    if byte == 0x0A:
        return b"\\\n"
    if byte in (0x22, 0x5C):
        return b"\\" + match.group(0)
    return b"\\%d" % byte


def quote_string(value: str | bytes) -> bytes:
    """LuaJIT's ``string.format("%q", value)``: newlines stay real, control bytes become decimals."""
    return b'"' + _ESCAPED.sub(_escape, lua_string_bytes(value)) + b'"'


def format_number(value: int | float) -> bytes:
    """LuaJIT's ``tostring`` of a number (``%.14g``); refuses NaN and infinities.

    KOReader writes those as ``nan``/``inf``, which read back as undefined globals, so the value
    would silently vanish: kksync never writes one.
    """
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ValueError(f"cannot write the non-finite number {value!r} into a KOReader file")
    return b"%.14g" % as_float


def _key_text(key: LuaKey) -> bytes:
    """``tostring(key)``, used when KOReader compares keys of different Lua types."""
    if isinstance(key, str | bytes):
        return lua_string_bytes(key)
    return format_number(key)


def _compare_keys(left: LuaKey, right: LuaKey) -> int:
    left_is_string = isinstance(left, str | bytes)
    right_is_string = isinstance(right, str | bytes)
    if left_is_string and right_is_string:
        a, b = lua_string_bytes(left), lua_string_bytes(right)  # type: ignore[arg-type]
        return (a > b) - (a < b)
    if not left_is_string and not right_is_string:
        return (left > right) - (left < right)  # type: ignore[operator]
    a, b = _key_text(left), _key_text(right)
    # Only [1] next to ["1"] ties; put the number first so the output is at least stable.
    return (a > b) - (a < b) or (1 if left_is_string else -1)


_KEY_ORDER = cmp_to_key(_compare_keys)


def sorted_keys(table: Mapping[LuaKey, LuaValue]) -> list[LuaKey]:
    """The table's keys in the order KOReader writes them."""
    for key in table:
        if isinstance(key, bool) or not isinstance(key, int | float | str | bytes):
            raise ValueError(f"a KOReader table key cannot be {key!r}")
    return sorted(table, key=_KEY_ORDER)


def _format_key(key: LuaKey) -> bytes:
    if isinstance(key, str | bytes):
        return quote_string(key)
    return format_number(key)


def _format_scalar(value: LuaValue) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str | bytes):
        return quote_string(value)
    raise ValueError(f"a KOReader value cannot be {type(value).__name__}")


def dump_value(value: LuaValue, depth: int = 0) -> bytes:
    """One value as KOReader's ordered ``dump`` writes it at ``depth`` (0 = the returned table)."""
    parts: list[bytes] = []
    _dump_into(parts, value, depth)
    return b"".join(parts)


def _dump_into(parts: list[bytes], value: LuaValue, depth: int) -> None:
    if not isinstance(value, Mapping):
        parts.append(_format_scalar(value))
        return
    if depth >= MAX_NESTING:
        raise ValueError(f"table nested deeper than {MAX_NESTING} levels")
    if not value:
        parts.append(b"{}")
        return
    parts.append(b"{")
    entry_indent = b"\n" + INDENT * (depth + 1)
    for key in sorted_keys(value):
        parts.extend((entry_indent, b"[", _format_key(key), b"] = "))
        _dump_into(parts, value[key], depth + 1)
        parts.append(b",")
    parts.extend((b"\n", INDENT * depth, b"}"))


def render_settings_file(table: Mapping[LuaKey, LuaValue], header_path: str) -> bytes:
    """The complete bytes of a KOReader settings file: header comment, ``return``, table, newline."""
    if "\n" in header_path or "\r" in header_path:
        raise ValueError("a KOReader header path cannot contain a line break")
    header = b"-- " + header_path.encode("utf-8", "surrogateescape") + b"\n"
    return header + b"return " + dump_value(dict(table)) + b"\n"
