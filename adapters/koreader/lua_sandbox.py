"""Read KOReader's Lua settings files as untrusted data, inside a locked-down LuaJIT.

KOReader reads a sidecar with ``dofile``: the file is a Lua program. Anybody who can put a file on
the device (or a sync tool with a bug) controls that program, so kksync runs it in LuaJIT 2.1
(the engine KOReader uses, via ``lupa.luajit21``) with every door shut
(docs/reference/koreader.md §9):

- the size is checked before anything is read (16 MiB, a real sidecar is a few KiB);
- ``load(text, name, "t", env)`` refuses precompiled bytecode; ``env`` is empty and raises on any
  global read, so ``os``, ``io``, ``require`` and KOReader's ``nan``/``inf`` all fail loudly;
- strings lose their metatable, so ``("x"):rep(1e9)`` and pattern functions are unreachable;
- the chunk runs with the JIT switched off in a coroutine with a count hook, which stops endless
  loops after an instruction budget and slow ones after a wall-clock time limit (one instruction
  can take milliseconds: ``s < t`` compares two whole strings); ``max_memory`` stops memory bombs
  and so bounds the cost of any single instruction;
- the result must be a non-empty table (KOReader deletes anything else), is converted without
  recursion, and must not nest deeper than ``MAX_NESTING``, hold more than ``max_values`` values,
  or use one table twice (which would also let a tiny file expand exponentially or loop).

NaN and infinities are refused: KOReader writes them as ``nan``/``inf``, which read back as nil, so
such a file cannot be rewritten byte for byte; KOReader drops the field itself on its next save. An
infinite key is refused too: written as ``[inf]`` it reads back as ``[nil]``, which breaks the file.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

import lupa.luajit21 as luajit

from adapters.koreader.lua_values import MAX_NESTING, LuaKey, LuaScalar, LuaTable, python_string
from application.errors import SidecarError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_MEMORY_BYTES = 256 * 1024 * 1024
INSTRUCTION_BUDGET = 20_000_000
# Whole seconds of wall-clock time one file may spend in Lua. A sidecar far larger than any real one
# (5,000 annotations, 3 MB) needs ~30 ms, so 3 s leaves a wide margin for slow machines, while a
# hostile file holds the shared runtime's lock, and so stalls every other reader in a daemon, for
# 3 to 4 s at most instead of hours.
TIME_LIMIT_SECONDS = 3
# Instructions between two runs of the count hook. The time limit is only seen when the hook runs,
# and one instruction can take milliseconds: within max_memory the slowest found, comparing two
# 48 MiB strings, takes ~5 ms. 100 keeps the delay under a second (~0.2 s measured on such loops);
# the hook then adds ~0.15 s to a run that spends the whole instruction budget.
HOOK_INTERVAL = 100
MAX_VALUES = 1_000_000
BYTECODE_MARK = b"\x1b"

_RUNNER = b"""
local load, setmetatable, error, tostring, type, next = load, setmetatable, error, tostring, type, next
local jit, sethook, create, resume = jit, debug.sethook, coroutine.create, coroutine.resume
local collect, ceil, wall_seconds = collectgarbage, math.ceil, os.time
debug.setmetatable("", nil)

local guard = {
  __index = function(_, name) error("uses the undefined name '" .. tostring(name) .. "'", 0) end,
  __newindex = function(_, name) error("assigns the global '" .. tostring(name) .. "'", 0) end,
}

-- Bound the result's shape before Python copies it: a chunk can build a table that contains
-- itself, or a small DAG whose full copy would be exponential; data written by KOReader never
-- shares a table between two places.
local function shape_error(root, max_values, max_depth)
  local seen, stack, depths, top, count = {[root] = true}, {root}, {1}, 1, 0
  while top > 0 do
    local tbl, depth = stack[top], depths[top]
    stack[top], depths[top], top = nil, nil, top - 1
    for _, value in next, tbl do
      count = count + 1
      if count > max_values then return "holds more than " .. max_values .. " values" end
      if type(value) == "table" then
        if seen[value] then return "uses the same table twice (or refers to itself)" end
        if depth >= max_depth then return "nests tables deeper than " .. max_depth .. " levels" end
        seen[value], top = true, top + 1
        stack[top], depths[top] = value, depth + 1
      end
    end
  end
  return nil
end

-- The count hook, run every `every` instructions: it stops the chunk once it has used `budget`
-- instructions or more than `seconds` seconds. os.time is portable, costs no call into Python
-- (which would wait for the GIL) and counts whole seconds, so the limit is seen between `seconds`
-- and `seconds` + 1. The hook runs many times a second whenever the limit matters, so a longer
-- step means the system clock was changed or the process stopped: it counts as one second, and a
-- clock set back counts as none.
local function limits_hook(budget, every, seconds)
  local hooks_left, elapsed, last = ceil(budget / every), 0, wall_seconds()
  return function()
    hooks_left = hooks_left - 1
    if hooks_left <= 0 then error("runs too long (instruction budget exhausted)", 0) end
    local now = wall_seconds()
    if now ~= last then
      if now > last then elapsed = elapsed + 1 end
      last = now
      if elapsed > seconds then error("runs too long (took more than " .. seconds .. " seconds)", 0) end
    end
  end
end

local function run(text, chunkname, budget, every, seconds, max_values, max_depth, allow_empty)
  if every > budget then every = budget end
  local hook = limits_hook(budget, every, seconds)
  local chunk, syntax_error = load(text, chunkname, "t", setmetatable({}, guard))
  if not chunk then return false, syntax_error end
  jit.off(chunk, true)
  local co = create(chunk)
  sethook(co, hook, "", every)
  local ok, result = resume(co)
  sethook(co)
  if not ok then return false, tostring(result) end
  if type(result) ~= "table" then return false, "returns a " .. type(result) .. ", not a table" end
  if next(result) == nil and not allow_empty then return false, "returns an empty table" end
  local problem = shape_error(result, max_values, max_depth)
  if problem then return false, problem end
  return true, result
end

local function is_negative_zero(tbl, key)
  local value = tbl[key]
  return value == 0 and 1 / value < 0
end

return run, is_negative_zero, function() collect("collect") end
"""


class LuaSandbox:
    """One LuaJIT runtime reused for every file; rebuilt when a run leaves it in doubt."""

    def __init__(
        self,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_memory: int = MAX_MEMORY_BYTES,
        instruction_budget: int = INSTRUCTION_BUDGET,
        time_limit_seconds: int = TIME_LIMIT_SECONDS,
        max_values: int = MAX_VALUES,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_memory = max_memory
        self.instruction_budget = instruction_budget
        self.time_limit_seconds = time_limit_seconds
        self.max_values = max_values
        self._lock = threading.Lock()
        self._runtime: Any = None
        self._run: Any = None
        self._is_negative_zero: Any = None
        self._collect: Any = None

    def load_file(self, path: Path, *, allow_empty: bool = False) -> LuaTable:
        """The table a KOReader settings file returns; ``SidecarError`` for anything else.

        An empty table is refused unless ``allow_empty``: KOReader deletes an empty sidecar, while
        an empty ``history.lua`` is simply a fresh install.
        """
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                raise _refuse(path, f"is {size} bytes, more than the {self.max_file_bytes} allowed")
            with path.open("rb") as stream:
                text = stream.read(self.max_file_bytes + 1)
        except OSError as error:
            raise SidecarError(f"KOReader file {path} cannot be read: {error.strerror or error}") from None
        return self.load_text(text, str(path), allow_empty=allow_empty)

    def load_text(self, text: bytes, source: str, *, allow_empty: bool = False) -> LuaTable:
        """Run ``text`` in the sandbox and convert the table it returns; ``source`` names it in errors."""
        if len(text) > self.max_file_bytes:
            raise _refuse(source, f"is {len(text)} bytes, more than the {self.max_file_bytes} allowed")
        if text.startswith(BYTECODE_MARK):
            raise _refuse(source, "is precompiled Lua bytecode")
        with self._lock:
            return self._load_locked(text, source, allow_empty)

    def _load_locked(self, text: bytes, source: str, allow_empty: bool) -> LuaTable:
        self._ensure_runtime()
        try:
            chunk_name = b"=" + Path(source).name.encode("utf-8", "replace")
            ok, result = self._run(
                text,
                chunk_name,
                self.instruction_budget,
                HOOK_INTERVAL,
                self.time_limit_seconds,
                self.max_values,
                MAX_NESTING,
                allow_empty,
            )
            if not ok:
                reason = result.decode("utf-8", "replace") if isinstance(result, bytes) else str(result)
                if "not enough memory" in reason:
                    self._discard_runtime()
                    reason = f"needs more than {self.max_memory // (1024 * 1024)} MiB of memory"
                raise _refuse(source, reason)
            return self._convert(result, source)
        except (luajit.LuaError, MemoryError) as error:
            self._discard_runtime()
            raise _refuse(source, f"broke the Lua runtime ({type(error).__name__})") from None
        finally:
            if self._collect is not None:
                self._collect()

    def _ensure_runtime(self) -> None:
        if self._runtime is None:
            runtime = luajit.LuaRuntime(
                encoding=None, max_memory=self.max_memory, register_eval=False, register_builtins=False
            )
            self._run, self._is_negative_zero, self._collect = runtime.execute(_RUNNER)
            self._runtime = runtime

    def _discard_runtime(self) -> None:
        log.debug("rebuilding the Lua sandbox runtime")
        self._runtime = self._run = self._is_negative_zero = self._collect = None

    def _convert(self, lua_root: Any, source: str) -> LuaTable:
        """Copy the Lua table into Python without recursion, bounding depth and size."""
        root: LuaTable = {}
        pending: list[tuple[Any, LuaTable, int]] = [(lua_root, root, 1)]
        seen = 0
        while pending:
            lua_table, target, depth = pending.pop()
            for lua_key, lua_value in lua_table.items():
                seen += 1
                if seen > self.max_values:
                    raise _refuse(source, f"holds more than {self.max_values} values")
                key = _convert_key(lua_key, source)
                if luajit.lua_type(lua_value) == "table":
                    if depth >= MAX_NESTING:
                        raise _refuse(source, f"nests tables deeper than {MAX_NESTING} levels")
                    child: LuaTable = {}
                    target[key] = child
                    pending.append((lua_value, child, depth + 1))
                else:
                    target[key] = self._convert_scalar(lua_table, lua_key, lua_value, source)
        return root

    def _convert_scalar(self, lua_table: Any, lua_key: Any, value: Any, source: str) -> LuaScalar:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            # lupa hands integral numbers over as int, which would turn -0 into 0.
            if value == 0 and self._is_negative_zero(lua_table, lua_key):
                return -0.0
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _refuse(source, "holds a NaN or infinite number, which KOReader cannot re-read")
            return value
        if isinstance(value, bytes):
            return python_string(value)
        raise _refuse(source, f"holds a Lua {luajit.lua_type(value) or type(value).__name__}, not data")


def _convert_key(lua_key: Any, source: str) -> LuaKey:
    if isinstance(lua_key, bool) or not isinstance(lua_key, int | float | bytes):
        kind = luajit.lua_type(lua_key) or type(lua_key).__name__
        raise _refuse(source, f"uses a {kind} as a table key")
    if isinstance(lua_key, bytes):
        return python_string(lua_key)
    if isinstance(lua_key, float) and not math.isfinite(lua_key):
        # Lua refuses a NaN key itself; an infinite one is written as [inf], read back as [nil].
        raise _refuse(source, "uses an infinite number as a table key, which KOReader cannot re-read")
    return lua_key


def _refuse(source: str | Path, reason: str) -> SidecarError:
    return SidecarError(f"KOReader file {source} refused: {reason}")


_shared: LuaSandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> LuaSandbox:
    """The process-wide sandbox: one LuaJIT runtime serves every file kksync reads."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LuaSandbox()
        return _shared
