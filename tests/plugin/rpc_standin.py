"""A stand-in kksync daemon for the plugin tests: JSON-RPC 2.0, one object per line, over a Unix socket.

It follows docs/rpc.md (methods, result shapes, error codes, ``daemon.json``) with an in-memory
state, and records every request so tests can check what the plugin asked.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETTINGS_DEFAULTS: dict[str, Any] = {
    "sync_reading_state": True,
    "enable_auto_sync": True,
    "enable_sync_from_kobo": True,
    "enable_sync_to_kobo": True,
    "sync_from_kobo_newer": "silent",
    "sync_from_kobo_older": "never",
    "sync_to_kobo_newer": "silent",
    "sync_to_kobo_older": "never",
}
POLICY_VALUES = ("prompt", "silent", "never")


class RpcFailure(Exception):
    """Raised by a handler to answer with a JSON-RPC error."""

    def __init__(self, code: int, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind


Handler = Callable[[dict[str, Any] | None], Any]


@dataclass
class StandInDaemon:
    """Serves ``handlers`` on a private socket and announces it in ``<device>/.adds/kksync/daemon.json``."""

    device_root: Path
    handlers: dict[str, Handler]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # AF_UNIX paths are limited to ~108 bytes, so keep the socket out of pytest's long tmp paths.
        self._dir = Path(tempfile.mkdtemp(prefix="kks-", dir="/tmp"))
        self.socket_path = self._dir / "d.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.socket_path))
        self._server.listen(8)
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def info_path(self) -> Path:
        return self.device_root / ".adds" / "kksync" / "daemon.json"

    def start(self) -> StandInDaemon:
        self.info_path.parent.mkdir(parents=True, exist_ok=True)
        info = {"socket": str(self.socket_path), "pid": 1, "device": "/mnt/onboard", "version": "0.1.0"}
        self.info_path.write_text(json.dumps(info), encoding="utf-8")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self._server.close()
        self.info_path.unlink(missing_ok=True)
        shutil.rmtree(self._dir, ignore_errors=True)

    def methods(self) -> list[str]:
        return [request["method"] for request in self.requests]

    def _serve(self) -> None:
        while not self._stopping:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            # A client that hung up (KOReader quit) ends its connection, not the daemon.
            with connection, contextlib.suppress(OSError):
                self._answer_lines(connection)

    def _answer_lines(self, connection: socket.socket) -> None:
        reader = connection.makefile("rb")
        for raw in reader:
            request = json.loads(raw)
            self.requests.append(request)
            response = self._dispatch(request)
            connection.sendall(json.dumps(response).encode("utf-8") + b"\n")

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        base = {"jsonrpc": "2.0", "id": request.get("id")}
        handler = self.handlers.get(request.get("method", ""))
        if handler is None:
            return {**base, "error": {"code": -32601, "message": "method not found"}}
        try:
            return {**base, "result": handler(request.get("params"))}
        except RpcFailure as failure:
            error: dict[str, Any] = {"code": failure.code, "message": failure.message}
            if failure.kind:
                error["data"] = {"kind": failure.kind}
            return {**base, "error": error}


@dataclass
class KksyncState:
    """What a real daemon would hold: books, settings, open questions."""

    books: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=lambda: dict(SETTINGS_DEFAULTS))
    questions: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[str, bool]] = field(default_factory=list)

    def handlers(self) -> dict[str, Handler]:
        return {
            "status": lambda _p: {"version": "0.1.0", "device": "/mnt/onboard", "settings": self.settings},
            "library.list": lambda _p: {"books": self.books},
            "settings.get": lambda _p: {"settings": dict(self.settings)},
            "settings.set": self._set,
            "sync.run": lambda _p: {
                "books": [],
                "summary": {"pulled": 1, "pushed": 0},
                "questions": self.questions,
            },
            "sync.answer": self._answer,
            "reader.opened": lambda _p: {"book": None, "questions": []},
            "reader.closed": lambda _p: {"book": None, "questions": self.questions},
        }

    def _set(self, params: dict[str, Any] | None) -> dict[str, Any]:
        for key, value in (params or {}).items():
            if key not in self.settings:
                raise RpcFailure(-32602, f"unknown setting {key!r}")
            if key.startswith("sync_") and key != "sync_reading_state" and value not in POLICY_VALUES:
                raise RpcFailure(-32602, f"{key}={value!r}: allowed values are {', '.join(POLICY_VALUES)}")
            self.settings[key] = value
        return {"settings": dict(self.settings)}

    def _answer(self, params: dict[str, Any] | None) -> dict[str, Any]:
        params = params or {}
        token = params.get("token")
        if token not in {q["token"] for q in self.questions}:
            raise RpcFailure(-32000, "the book changed since the question was asked", "stale_token")
        self.answers.append((str(token), bool(params.get("accept"))))
        self.questions = [q for q in self.questions if q["token"] != token]
        return {"book": {"book_id": "x"}}
