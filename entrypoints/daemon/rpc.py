"""The plugin RPC: JSON-RPC 2.0, one object per line, over stdio (``kksync rpc``) or the daemon's socket.

A second way into the same SyncService as the CLI. The server answers every line it can attach
an id to, never dies on what a client sends (malformed JSON, wrong types, oversized or binary
lines, a client that hangs up mid-call), and turns the project's errors into -32000 responses
whose ``data.kind`` the plugin can act on.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from application.errors import ConfigurationError, DeviceError, KksyncError, StaleQuestion
from entrypoints.daemon.rpc_methods import Handler, RpcMethods
from entrypoints.daemon.rpc_protocol import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    IdentifiedError,
    Request,
    RpcError,
    TooLong,
    encode,
    error_response,
    kksync_error,
    parse_request,
    read_message,
    result_response,
)
from entrypoints.daemon.service_host import ServiceHost
from entrypoints.daemon.service_worker import ServiceWorker, WorkerBusy, WorkerStopped

log = logging.getLogger(__name__)

Write = Callable[[bytes], None]


class RpcDispatcher:
    """Turns one request line into at most one response line."""

    def __init__(self, methods: dict[str, Handler]) -> None:
        self.methods = methods

    def handle(self, line: bytes | TooLong) -> bytes | None:
        """The encoded response, or None for a notification (and for an empty line)."""
        if isinstance(line, TooLong):
            return encode(error_response(RpcError(INVALID_REQUEST, "invalid request: message over 1 MiB")))
        if not line.strip():
            return None
        try:
            request = parse_request(line)
        except IdentifiedError as error:
            return None if error.silent else encode(error_response(error))
        except RpcError as error:
            return encode(error_response(error))
        response = self.call(request)
        return None if request.is_notification else encode(response)

    def call(self, request: Request) -> dict[str, Any]:
        handler = self.methods.get(request.method)
        if handler is None:
            error = RpcError(METHOD_NOT_FOUND, f"method not found: {request.method[:100]!r}")
            return error_response(error, request.id)
        try:
            return result_response(request.id, handler(request.params))
        except RpcError as error:
            return error_response(error, request.id)
        except Exception as error:  # the server must outlive any one call
            return error_response(translate(error, request.method), request.id)


def translate(error: Exception, method: str) -> RpcError:
    """The project's exceptions as -32000 errors with a ``data.kind`` (docs/rpc.md "Errors")."""
    message = " ".join(str(error).split())
    if isinstance(error, WorkerBusy):
        return kksync_error("busy", f"{method}: {message}")
    if isinstance(error, WorkerStopped):
        return kksync_error("unavailable", message)
    if isinstance(error, StaleQuestion):
        return kksync_error("stale_token", message)
    if isinstance(error, ConfigurationError):
        return kksync_error("configuration", message)
    if isinstance(error, DeviceError | OSError):
        return kksync_error("device", message or type(error).__name__)
    if isinstance(error, KksyncError):
        return kksync_error("book", message)
    log.exception("unexpected error in %s", method)
    return RpcError(INTERNAL_ERROR, f"internal error in {method}: {type(error).__name__}")


def serve_stream(reader: BinaryIO, write: Write, dispatcher: RpcDispatcher) -> None:
    """Answer requests from ``reader`` until it ends or the peer goes away."""
    while True:
        try:
            line = read_message(reader)
        except (OSError, ValueError):  # reset by peer, or the stream was closed under us
            return
        if line is None:
            return
        response = dispatcher.handle(line)
        if response is None:
            continue
        try:
            write(response)
        except (OSError, ValueError):
            log.debug("client went away before its response was written")
            return


def build_dispatcher(host: ServiceHost) -> tuple[RpcDispatcher, RpcMethods]:
    methods = RpcMethods(host)
    return RpcDispatcher(methods.table()), methods


def serve_stdio(root: Path, koreader_dir: Path | None) -> None:
    """``kksync rpc``: requests on stdin, responses on stdout, until stdin closes."""
    worker = ServiceWorker()
    try:
        host = ServiceHost(root, koreader_dir, worker)
        dispatcher, _methods = build_dispatcher(host)
        output = sys.stdout.buffer

        def write(response: bytes) -> None:
            output.write(response)
            output.flush()

        serve_stream(sys.stdin.buffer, write, dispatcher)
    finally:
        worker.stop()
