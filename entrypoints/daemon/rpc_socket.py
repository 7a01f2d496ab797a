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
DRAIN_SECONDS = 5.0
"""At a stop, how long requests already sent (a book closed as KOReader quits) may still run."""


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
        self._active = 0
        self._idle = threading.Condition()
        previous = os.umask(0o177)  # no moment where others could connect
        try:
            super().__init__(str(path), _Connection)
        finally:
            os.umask(previous)
        os.chmod(path, SOCKET_MODE)

    def serve(self) -> None:
        """Accept connections until ``close``; blocks in ``select`` with no timeout (no idle wake-ups)."""
        self.serve_forever(poll_interval=None)  # type: ignore[arg-type]  # select() takes None

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("more than %d RPC clients at once; closing a new connection", MAX_CONNECTIONS)
            self.shutdown_request(request)
            return
        with self._idle:
            self._active += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("RPC connection failed")

    def close(self) -> None:
        """Stop accepting, answer what clients already sent, close the listening socket, remove its file.

        A client that sends a request and quits at once (KOReader closing a book on Exit) must
        still be served: connections waiting in the backlog are accepted and every connection
        in progress may finish, for at most ``DRAIN_SECONDS``.
        """
        self._stop_serving()
        self._accept_backlog()
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout=DRAIN_SECONDS)
        self.server_close()
        self.path.unlink(missing_ok=True)

    def _stop_serving(self) -> None:
        """``shutdown()`` for a loop that blocks without a timeout: flag it, then wake it once."""
        setattr(self, "_BaseServer__shutdown_request", True)  # noqa: B010 - socketserver's own flag
        waker = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            waker.connect(str(self.path))
        except OSError:
            pass  # not serving (never started, or already stopped)
        finally:
            waker.close()
        is_shut_down: threading.Event = getattr(self, "_BaseServer__is_shut_down")  # noqa: B009
        is_shut_down.wait(DRAIN_SECONDS)

    def _accept_backlog(self) -> None:
        self.socket.setblocking(False)
        while True:
            try:
                request, client_address = self.socket.accept()
            except OSError:
                return
            request.setblocking(True)
            self.process_request(request, client_address)
