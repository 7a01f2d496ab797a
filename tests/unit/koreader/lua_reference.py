"""An independent reference for KOReader's writer, run inside real LuaJIT (not the sandbox).

It follows docs/reference/koreader.md §3.2 in Lua itself: ``table.sort`` with KOReader's mixed-type
comparator, LuaJIT's own ``string.format("%q")`` and ``tostring``. The Python writer must produce
the same bytes for any table LuaJIT can hold.
"""

from __future__ import annotations

from typing import Any

import lupa.luajit21 as luajit

_REFERENCE = b"""
local function keys_in_order(tbl)
  local keys = {}
  for key in pairs(tbl) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function write(value, depth, out)
  if type(value) == "table" then
    local keys = keys_in_order(value)
    if #keys == 0 then out[#out + 1] = "{}"; return end
    out[#out + 1] = "{"
    for _, key in ipairs(keys) do
      out[#out + 1] = "\\n" .. string.rep("    ", depth + 1) .. "["
      out[#out + 1] = type(key) == "string" and string.format("%q", key) or tostring(key)
      out[#out + 1] = "] = "
      write(value[key], depth + 1, out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "\\n" .. string.rep("    ", depth) .. "}"
  elseif type(value) == "string" then
    out[#out + 1] = string.format("%q", value)
  else
    out[#out + 1] = tostring(value)
  end
end

local function dump_file(text, path)
  local value = assert(loadstring(text))()
  local out = {"-- ", path, "\\n", "return "}
  write(value, 0, out)
  out[#out + 1] = "\\n"
  return table.concat(out)
end

return dump_file, function(s) return string.format("%q", s) end, function(n) return tostring(n) end
"""

_runtime: Any = None
_functions: Any = None


def _lua() -> Any:
    global _runtime, _functions
    if _functions is None:
        _runtime = luajit.LuaRuntime(encoding=None)
        _functions = _runtime.execute(_REFERENCE)
    return _functions


def reference_rewrite(text: bytes, path: str) -> bytes:
    """Load ``text`` in plain LuaJIT and write it back the way KOReader's ordered dump does."""
    return bytes(_lua()[0](text, path.encode("utf-8")))


def luajit_quote(value: bytes) -> bytes:
    """LuaJIT's ``string.format("%q", value)``."""
    return bytes(_lua()[1](value))


def luajit_number(value: float) -> bytes:
    """LuaJIT's ``tostring`` of a number (handed over as the same IEEE double)."""
    return bytes(_lua()[2](float(value)))


def luajit_expression(source: str) -> bytes:
    """LuaJIT's ``tostring`` of the number the Lua expression ``source`` evaluates to."""
    _lua()
    return bytes(_runtime.execute(b"return tostring(" + source.encode("ascii") + b")"))
