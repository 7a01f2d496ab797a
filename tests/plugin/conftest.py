"""Runs the KOReader plugin's Lua under LuaJIT (lupa) with stand-ins for the KOReader modules it uses."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lupa.luajit21 import LuaRuntime, lua_type

from tests.e2e.rpc.conftest import short_dir  # sockets under /tmp: AF_UNIX paths must be short
from tests.fixtures import KOBO_FW438_DATABASE
from tests.plugin.rpc_standin import KksyncState, StandInDaemon

__all__ = ["short_dir"]  # a fixture shared with the RPC end-to-end tests

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "entrypoints" / "koreader_plugin" / "kksync.koplugin"
STANDINS = Path(__file__).resolve().parent / "standins"


FIXTURE_DB = KOBO_FW438_DATABASE


def partial_md5(path: str) -> str | None:
    """KOReader's util.partialMD5 (docs/reference/koreader.md §2)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return None
    digest = hashlib.md5()
    with handle:
        for i in range(-1, 11):
            handle.seek(0 if i < 0 else 1024 << (2 * i))
            chunk = handle.read(1024)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def to_python(value: Any) -> Any:
    """A Lua table as a dict, or a list when its keys are exactly 1..n."""
    if lua_type(value) != "table":
        return value
    items = {key: to_python(item) for key, item in value.items()}
    if items and all(isinstance(k, int) for k in items) and sorted(items) == list(range(1, len(items) + 1)):
        return [items[k] for k in range(1, len(items) + 1)]
    return items


class Bridges:
    """Python halves of the stand-ins: JSON, SQLite, Unix sockets, file checks."""

    def __init__(self, lua: LuaRuntime, data_dir: Path) -> None:
        self.lua = lua
        self.data_dir = data_dir
        self._sockets: dict[int, tuple[socket.socket, bytearray]] = {}
        self._conns: dict[int, sqlite3.Connection] = {}
        self._stmts: dict[int, dict[str, Any]] = {}
        self._next = 0
        self.sqlite_modes: list[str] = []
        self.sent: list[str] = []  # every line the plugin wrote to a daemon socket, in order

    def _id(self) -> int:
        self._next += 1
        return self._next

    def to_lua(self, value: Any) -> Any:
        if isinstance(value, dict):
            table = self.lua.table()
            for key, item in value.items():
                if item is not None:
                    table[key] = self.to_lua(item)
            return table
        if isinstance(value, list):
            table = self.lua.table()
            for index, item in enumerate(value, start=1):
                if item is not None:
                    table[index] = self.to_lua(item)
            return table
        return value

    # json
    def json_encode(self, value: Any) -> str:
        return json.dumps(to_python(value))

    def json_decode(self, text: str) -> Any:
        return self.to_lua(json.loads(text))

    # files
    def mode(self, path: str) -> str | None:
        if os.path.isdir(path):
            return "directory"
        if os.path.isfile(path):
            return "file"
        return None

    def is_file(self, path: str) -> bool:
        return os.path.isfile(path)

    # sqlite (lua-ljsqlite3 subset)
    def sqlite_open(self, path: str, mode: str) -> int:
        self.sqlite_modes.append(mode)
        uri = f"file:{path}?mode={'ro' if mode == 'ro' else 'rwc'}"
        conn_id = self._id()
        self._conns[conn_id] = sqlite3.connect(uri, uri=True)
        return conn_id

    def sqlite_prepare(self, conn_id: int, sql: str) -> int:
        stmt_id = self._id()
        self._stmts[stmt_id] = {"conn": self._conns[conn_id], "sql": sql, "params": (), "cursor": None}
        return stmt_id

    def sqlite_bind(self, stmt_id: int, *params: Any) -> None:
        self._stmts[stmt_id]["params"] = params

    def sqlite_step(self, stmt_id: int) -> Any:
        stmt = self._stmts[stmt_id]
        if stmt["cursor"] is None:
            stmt["cursor"] = stmt["conn"].execute(stmt["sql"], stmt["params"])
        row = stmt["cursor"].fetchone()
        if row is None:
            return None
        table = self.lua.table()
        for index, item in enumerate(row, start=1):
            if item is not None:
                table[index] = item
        return table

    def sqlite_close_stmt(self, stmt_id: int) -> None:
        self._stmts.pop(stmt_id, None)

    def sqlite_close(self, conn_id: int) -> None:
        self._conns.pop(conn_id).close()

    # LuaSocket unix
    def sock_new(self) -> int:
        sock_id = self._id()
        self._sockets[sock_id] = (socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), bytearray())
        return sock_id

    def sock_settimeout(self, sock_id: int, seconds: float) -> None:
        self._sockets[sock_id][0].settimeout(seconds)

    def sock_connect(self, sock_id: int, path: str) -> Any:
        try:
            self._sockets[sock_id][0].connect(path)
        except OSError as error:
            return (None, error.strerror or str(error))
        return 1

    def sock_send(self, sock_id: int, data: str) -> Any:
        self.sent.append(data)
        try:
            self._sockets[sock_id][0].sendall(data.encode("utf-8"))
        except OSError:
            return (None, "closed")
        return len(data)

    def sock_receive(self, sock_id: int, pattern: str) -> Any:
        assert pattern == "*l"
        sock, buffer = self._sockets[sock_id]
        while b"\n" not in buffer:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return (None, "timeout")
            if not chunk:
                return (None, "closed")
            buffer.extend(chunk)
        line, _, rest = bytes(buffer).partition(b"\n")
        buffer[:] = rest
        return line.decode("utf-8")

    def sock_close(self, sock_id: int) -> None:
        sock, _ = self._sockets.pop(sock_id, (None, None))
        if sock is not None:
            sock.close()


class PluginHarness:
    """One LuaJIT runtime with the plugin on ``package.path`` and every KOReader stand-in preloaded."""

    def __init__(self, tmp_path: Path, device_root: Path | None = None, socket_unix: bool = True) -> None:
        """``device_root``: an existing device folder (e.g. a demo Kobo) instead of a fresh one.

        ``socket_unix=False`` builds the runtime as on a real KOReader, whose LuaSocket has no
        ``socket.unix``: the plugin must then reach the daemon through ``kksync/unix_stream`` (FFI).
        """
        if device_root is None:
            self.device_root = tmp_path / "onboard"
            self.device_root.mkdir()
        else:
            self.device_root = device_root
        self.data_dir = self.device_root / ".adds" / "koreader"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.lua = LuaRuntime(unpack_returned_tuples=True)
        self.bridges = Bridges(self.lua, self.data_dir)
        g = self.lua.globals()
        g.package.path = f"{PLUGIN_DIR}/?.lua;{STANDINS}/?.lua;" + g.package.path
        g.package.cpath = ""  # no C module of this machine's Lua (a system LuaSocket) may leak in
        self.ui = self._load("ui_standins.lua")
        self.ko = self._load(
            "koreader_standins.lua",
            self._bridge(
                data_dir=str(self.data_dir),
                partial_md5=lambda path: partial_md5(str(self.host_path(path))),
                is_file=self.bridges.is_file,
                mode=self.bridges.mode,
            ),
        )
        g.G_reader_settings = self.ko.G_reader_settings
        sqlite = self._load(
            "sqlite_standin.lua",
            self._bridge(
                open=self.bridges.sqlite_open,
                prepare=self.bridges.sqlite_prepare,
                bind=self.bridges.sqlite_bind,
                step=self.bridges.sqlite_step,
                close_stmt=self.bridges.sqlite_close_stmt,
                close=self.bridges.sqlite_close,
            ),
        )
        unix = self._load(
            "socket_standin.lua",
            self._bridge(
                new=self.bridges.sock_new,
                settimeout=self.bridges.sock_settimeout,
                connect=self.bridges.sock_connect,
                send=self.bridges.sock_send,
                receive=self.bridges.sock_receive,
                close=self.bridges.sock_close,
            ),
        )
        json_module = self._bridge(encode=self.bridges.json_encode, decode=self.bridges.json_decode)
        self.preload(
            {
                "ui/uimanager": self.ui.UIManager,
                "ui/widget/menu": self.ui.Menu,
                "ui/widget/confirmbox": self.ui.ConfirmBox,
                "ui/widget/infomessage": self.ui.InfoMessage,
                "ui/widget/imageviewer": self.ui.ImageViewer,
                "ui/renderimage": self.ui.RenderImage,
                "ui/widget/container/widgetcontainer": self.ui.WidgetContainer,
                "apps/reader/readerui": self.ui.ReaderUI,
                "logger": self.ui.logger,
                "gettext": self.lua.eval("function(s) return s end"),
                "json": json_module,
                "docsettings": self.ko.DocSettings,
                "datastorage": self.ko.DataStorage,
                "document/documentregistry": self.ko.DocumentRegistry,
                "libs/libkoreader-lfs": self.ko.lfs,
                "lua-ljsqlite3/init": sqlite,
            }
        )
        if socket_unix:
            self.preload({"socket.unix": unix})
        self.json = json_module
        self.unix = unix
        self.sqlite = sqlite

    def host_path(self, device_path: str) -> Path:
        """Where an on-device path (``/mnt/onboard/...``) lives in the temp device."""
        if device_path.startswith("/mnt/onboard/"):
            return self.device_root / device_path[len("/mnt/onboard/") :]
        return Path(device_path)

    def _bridge(self, **functions: Any) -> Any:
        return self.lua.table_from(functions)

    def _load(self, name: str, *args: Any) -> Any:
        chunk = self.lua.eval(f"function(text) return assert(load(text, '@{name}', 't')) end")
        return chunk((STANDINS / name).read_text(encoding="utf-8"))(*args)

    def preload(self, modules: dict[str, Any]) -> None:
        install = self.lua.eval(
            "function(name, value) package.preload[name] = function() return value end end"
        )
        for name, value in modules.items():
            install(name, value)

    def require(self, name: str) -> Any:
        return self.lua.globals().require(name)

    def daemon(self, **overrides: Any) -> Any:
        """A kksync/daemon for the temp device, with the stand-in JSON and socket modules."""
        opts = {"device_root": str(self.device_root), "json": self.json, "unix": self.unix, **overrides}
        return self.require("kksync/daemon").new(self.lua.table_from(opts))

    def new_plugin(self, document: str | None = None) -> Any:
        """Instantiates the plugin as KOReader's PluginLoader would, for the temp device."""
        plugin_class = self.require("main")
        plugin_class.device_root = str(self.device_root)
        fake_ui = self.lua.eval(
            "function(doc) local ui = { menu = {} } "
            "function ui.menu:registerToMainMenu(p) self.registered = p end "
            "if doc then ui.document = { file = doc } end return ui end"
        )(document)
        return plugin_class.new(plugin_class, self.lua.table_from({"ui": fake_ui}))

    def last(self, kind: str | None = None) -> Any:
        """The most recent widget still on screen (of this kind), or None."""
        return self.ui.UIManager.last(self.ui.UIManager, kind)

    def shown(self, kind: str | None = None) -> list[Any]:
        return [w for w in self.ui.UIManager.shown.values() if kind is None or w.kind == kind]

    def sent_requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """The JSON-RPC requests the plugin sent to a daemon (of this method), in order."""
        lines = "".join(self.bridges.sent).splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
        return [r for r in requests if method is None or r.get("method") == method]


@pytest.fixture
def harness(tmp_path: Path) -> PluginHarness:
    return PluginHarness(tmp_path)


def sample_books(device_root: Path) -> list[dict[str, Any]]:
    """Books as ``library.list`` returns them (docs/rpc.md): on-device paths, for the temp device's files."""
    kepub_dir = "/mnt/onboard/.kobo/kepub"
    return [
        {
            "book_id": "0RDTATJQNHSQ0",
            "title": "Persuasion",
            "author": "Jane Austen",
            "series": None,
            "series_number": None,
            "source": "komga",
            "kind": "kepub",
            "readable": True,
            "path": f"{kepub_dir}/0RDTATJQNHSQ0",
            "cover": "/mnt/onboard/.kobo-images/12/34/0RDT.parsed",
            "kobo": {"percent": 45.0, "status": "READING", "updated_at": "2026-11-20T14:30:00Z"},
            "koreader": {"percent": 38.2, "status": "READING", "updated_at": "2026-11-19T21:02:11Z"},
        },
        {
            "book_id": "c00698f0-3836-4428-b0fc-48354822fa80",
            "title": "emma",
            "author": "Jane Austen",
            "series": "Novels",
            "series_number": "4",
            "source": "calibre-web",
            "kind": "kepub",
            "readable": True,
            "path": f"{kepub_dir}/c00698f0-3836-4428-b0fc-48354822fa80",
            "cover": None,
            "kobo": {"percent": 0.0, "status": "UNOPENED", "updated_at": None},
            "koreader": None,
        },
        {
            "book_id": "file:///mnt/onboard/Books/Mansfield Park.kepub.epub",
            "title": "Mansfield Park",
            "author": "Jane Austen",
            "series": None,
            "series_number": None,
            "source": "sideloaded",
            "kind": "kepub",
            "readable": True,
            "path": "/mnt/onboard/Books/Mansfield Park.kepub.epub",
            "cover": None,
            "kobo": {"percent": 100.0, "status": "FINISHED", "updated_at": "2026-12-01T08:00:00Z"},
            "koreader": None,
        },
        {
            "book_id": "d849352f-02e7-4a94-b524-a658a092b17d",
            "title": "A Locked Store Book",
            "author": "X",
            "series": None,
            "series_number": None,
            "source": "kobo-store",
            "kind": "kepub",
            "readable": False,
            "path": f"{kepub_dir}/d849352f-02e7-4a94-b524-a658a092b17d",
            "cover": None,
            "kobo": {"percent": 0.0, "status": "UNOPENED", "updated_at": None},
            "koreader": None,
        },
    ]


@pytest.fixture
def kksync_state(harness: PluginHarness) -> KksyncState:
    return KksyncState(books=sample_books(harness.device_root))


@pytest.fixture
def running_daemon(harness: PluginHarness, kksync_state: KksyncState) -> Iterator[StandInDaemon]:
    daemon = StandInDaemon(harness.device_root, kksync_state.handlers()).start()
    yield daemon
    daemon.stop()


@pytest.fixture
def fixture_db(harness: PluginHarness) -> Path:
    """A writable copy of the shared fw 4.38 database inside the temp device."""
    target = harness.device_root / ".kobo" / "KoboReader.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE_DB, target)
    return target
