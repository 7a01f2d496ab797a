"""How Lua data from KOReader's settings files looks on the Python side.

A sidecar is a tree of Lua tables holding strings, numbers and booleans. The Python mirror keeps
everything that matters for a byte-exact rewrite:

- Lua strings become ``str`` when they are valid UTF-8 and ``bytes`` otherwise, so a title with a
  stray Latin-1 byte survives untouched. Both kinds serialize to the same Lua string.
- Integer keys and string keys stay distinct (``[2]`` is ``2``, ``["2"]`` is ``"2"``).
- Numbers are ``int`` or ``float``; only ``-0.0`` needs a float to keep its sign, every other
  integral value prints the same either way (``%.14g``).
"""

from __future__ import annotations

from typing import TypeAlias

LuaKey: TypeAlias = int | float | str | bytes
LuaScalar: TypeAlias = bool | int | float | str | bytes
LuaValue: TypeAlias = "LuaScalar | LuaTable"
LuaTable: TypeAlias = dict[LuaKey, LuaValue]

MAX_NESTING = 100
"""Deepest table nesting kksync accepts; real sidecars are 5 levels deep, LuaJIT's parser stops at 200."""


def lua_string_bytes(value: str | bytes) -> bytes:
    """The bytes of a Lua string, whichever Python type holds it."""
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value


def python_string(raw: bytes) -> str | bytes:
    """A Lua string as ``str`` when it is valid UTF-8, else the untouched bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def copy_table(table: LuaTable) -> LuaTable:
    """A deep copy, without recursion, so callers can change it freely."""
    root: LuaTable = {}
    pending: list[tuple[LuaTable, LuaTable]] = [(table, root)]
    while pending:
        source, target = pending.pop()
        for key, value in source.items():
            if isinstance(value, dict):
                child: LuaTable = {}
                target[key] = child
                pending.append((value, child))
            else:
                target[key] = value
    return root
