"""Every Lua file of the plugin compiles under LuaJIT 2.1 (KOReader's engine) and passes luacheck.

luacheck is a Lua program (LuaRocks, or Debian's ``lua-check``), not a Python package, so the
virtualenv cannot install it: where it is missing its test is skipped, and the other checks here
(compiling every file, no leaked globals) still run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lupa.luajit21 import LuaRuntime

from tests.plugin.conftest import PLUGIN_DIR, STANDINS, PluginHarness

PATCHES = PLUGIN_DIR.parent / "patches"  # KOReader user patches shipped with the plugin
LUA_FILES = (
    sorted(PLUGIN_DIR.rglob("*.lua")) + sorted(PATCHES.rglob("*.lua")) + sorted(STANDINS.rglob("*.lua"))
)


def test_the_plugin_has_its_entry_points() -> None:
    names = {path.relative_to(PLUGIN_DIR).as_posix() for path in PLUGIN_DIR.rglob("*.lua")}
    assert {"_meta.lua", "main.lua"} <= names


REPO = PLUGIN_DIR.parents[2]


@pytest.mark.skipif(shutil.which("luacheck") is None, reason="luacheck is not installed")
def test_luacheck_finds_nothing() -> None:
    """With the repository's .luacheckrc: LuaJIT globals only, 120 columns, no unused values."""
    result = subprocess.run(
        ["luacheck", "--no-color", "--formatter", "plain", str(PLUGIN_DIR), str(PATCHES), str(STANDINS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", LUA_FILES, ids=lambda p: p.name)
def test_lua_file_compiles(path: Path) -> None:
    lua = LuaRuntime()
    compile_chunk = lua.eval(
        "function(text, name) local f, err = load(text, name, 't') return f ~= nil, err end"
    )
    ok, error = compile_chunk(path.read_text(encoding="utf-8"), "@" + path.name)
    assert ok, error


def test_lua_files_leak_no_globals(harness: PluginHarness) -> None:
    """Loading the plugin must not create globals: KOReader shares one Lua state among all plugins."""
    before = set(harness.lua.globals().keys())
    harness.new_plugin()
    leaked = set(harness.lua.globals().keys()) - before
    assert leaked == set()
