"""One thread for every call into the SyncService.

The service and its SQLAlchemy engines (Nickel's database, the ledger) are not thread-safe, and
two syncs at once could interleave writes to the same book. So every RPC connection and the
daemon's watcher hand their work to this single worker thread. A caller waits at most
``busy_timeout`` seconds for its turn, then gets ``WorkerBusy`` (RPC: -32000 ``busy``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_SECONDS = 30.0


class WorkerBusy(Exception):
    """Another call held the worker for longer than the caller was willing to wait."""


class WorkerStopped(Exception):
    """The worker was shut down (the daemon is exiting); no more calls are taken."""


class ServiceWorker:
    """Runs callables one at a time on one dedicated thread, in the order callers got their turn."""

    def __init__(
        self, busy_timeout: float = DEFAULT_BUSY_SECONDS, after_work: Callable[[], None] | None = None
    ) -> None:
        self.busy_timeout = busy_timeout
        self.after_work = after_work
        """Run on the worker once a call's result is handed back (e.g. giving freed memory back),
        so the caller never waits for it; calls coming in meanwhile wait at most for it."""
        self._turn = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kksync-service")
        self._stopped = threading.Event()

    def call(self, work: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``work`` on the worker thread and return its result (or raise what it raised).

        ``timeout`` (default: ``busy_timeout``) bounds the wait for the turn, not the work itself:
        a sync that has started is always allowed to finish.
        """
        if self._stopped.is_set():
            raise WorkerStopped("kksync is shutting down")
        wait = self.busy_timeout if timeout is None else timeout
        if not self._turn.acquire(timeout=max(wait, 0.0)):
            raise WorkerBusy(f"another sync is running; tried for {wait:g} s")
        try:
            if self._stopped.is_set():
                raise WorkerStopped("kksync is shutting down")
            try:
                future = self._executor.submit(work)
            except RuntimeError:  # shut down between the check above and now
                raise WorkerStopped("kksync is shutting down") from None
            try:
                return future.result()
            finally:
                self._tidy_afterwards()
        finally:
            self._turn.release()

    def _tidy_afterwards(self) -> None:
        if self.after_work is None:
            return
        with contextlib.suppress(RuntimeError):  # shutting down: nothing to tidy for
            self._executor.submit(self._after_work)

    def _after_work(self) -> None:
        assert self.after_work is not None
        try:
            self.after_work()
        except Exception:  # tidying must never break the worker
            log.exception("tidying up after a call failed")

    def stop(self) -> None:
        """Refuse new calls, let the running one finish, then end the thread."""
        self._stopped.set()
        self._executor.shutdown(wait=True)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()
