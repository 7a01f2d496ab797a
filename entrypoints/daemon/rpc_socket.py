"""The daemon's RPC socket: a Unix stream socket, mode 0600, one thread per connection.

Connection threads only read, parse and write; every service call still goes to the single
worker. A client that connects and then says nothing is dropped after ``IDLE_SECONDS`` and at
most ``MAX_CONNECTIONS`` are served at once, so stuck clients cannot use up the daemon.
"""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any, BinaryIO, cast

from entrypoints.daemon.rpc import RpcDispatcher, serve_stream

log = logging.getLogger(__name__)

IDLE_SECONDS = 120.0
MAX_CONNECTIONS = 64
SOCKET_MODE = 0o600


class _Connection(socketserver.StreamRequestHandler):
    timeout = IDLE_SECONDS
    server: RpcSocketServer

    def handle(self) -> None:
        connection: socket.socket = self.request
        serve_stream(cast(BinaryIO, self.rfile), connection.sendall, self.server.dispatcher)


class RpcSocketServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves ``dispatcher`` on ``path``; the socket file is created 0600 and removed by ``close``."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = MAX_CONNECTIONS  # a Unix socket refuses (EAGAIN) past its backlog

    def __init__(self, path: Path, dispatcher: RpcDispatcher) -> None:
        self.path = path
        self.dispatcher = dispatcher
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        previous = os.umask(0o177)  # no moment where others could connect
        try:
            super().__init__(str(path), _Connection)
        finally:
            os.umask(previous)
        os.chmod(path, SOCKET_MODE)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("more than %d RPC clients at once; closing a new connection", MAX_CONNECTIONS)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("RPC connection failed")

    def close(self) -> None:
        """Stop accepting, close the listening socket and remove its file."""
        self.shutdown()
        self.server_close()
        self.path.unlink(missing_ok=True)
