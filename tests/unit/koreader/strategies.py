"""Hypothesis strategies for Lua data as KOReader stores it, and a strict comparison for it."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from adapters.koreader.lua_values import LuaTable


def canonical(number: float) -> float:
    """What a number becomes after one KOReader save: 14 significant digits."""
    return float(f"{number:.14g}")


def _is_invalid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# Surrogates cannot be encoded to UTF-8 and never come out of a Lua string.
texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
invalid_utf8 = st.binary(min_size=1, max_size=20).filter(_is_invalid_utf8)
numbers = st.one_of(
    st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: canonical(n)),
    st.floats(allow_nan=False, allow_infinity=False).map(canonical),
    st.sampled_from([0.0, -0.0, 1e-5, 1e15, 5e-324, 1.7976931348623e308, 1 / 3, 2.0**53]).map(canonical),
)
scalars = st.one_of(st.booleans(), numbers, texts, invalid_utf8)

# String keys that start with a digit or "-" could make KOReader's mixed-type comparator cyclic
# next to number keys (see lua_writer's module docstring); KOReader's own keys never do.
string_keys = st.one_of(
    texts.filter(lambda s: not s[:1] or s[0] not in "-0123456789"),
    invalid_utf8.filter(lambda b: b[:1] not in (b"-", *(bytes([d]) for d in b"0123456789"))),
)
number_keys = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**9),
    st.floats(min_value=-1e6, max_value=1e6).map(canonical).filter(lambda x: x != int(x)),
)
keys = st.one_of(number_keys, string_keys)

values = st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=6), max_leaves=40)
tables: st.SearchStrategy[LuaTable] = st.dictionaries(keys, values, min_size=1, max_size=8)


def strict(value: Any) -> Any:
    """A hashable form that tells apart what Python's ``==`` mixes up (True/1, "a"/b"a", 0.0/-0.0)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", float(value), str(float(value)).startswith("-"))
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, bytes):
        return ("bytes", value)
    if isinstance(value, dict):
        return ("table", frozenset((strict(k), strict(v)) for k, v in value.items()))
    raise TypeError(type(value))
