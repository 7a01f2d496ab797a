"""``kksync daemon``: watch Nickel's database and KOReader's files, sync what changed, serve the RPC.

Same code on the Kobo itself and on a computer with the Kobo mounted; only the paths differ.
Threads: the main thread waits for SIGTERM/SIGINT; the socket server gives each client its own
thread; watchdog's observer feeds a debouncer whose thread asks the single service worker which
books changed and syncs them. On a stop signal the book in progress is finished, then the
socket, ``daemon.json`` and the pid file are removed.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from socket import gethostname
from typing import Any

from watchdog.observers import Observer

from adapters.device_lock import DAEMON, DeviceBusy, DeviceLock
from adapters.leftovers import remove_leftovers
from application.records import FileState, KoboBook
from application.reports import BookReport
from application.service import NobodyToAsk, SyncService
from entrypoints.daemon.library_memory import LibraryMemory
from entrypoints.daemon.lifecycle import lower_priority, release_memory, stop_on_signals, watch_parent
from entrypoints.daemon.rpc import build_dispatcher
from entrypoints.daemon.rpc_methods import kksync_version
from entrypoints.daemon.rpc_socket import RpcSocketServer
from entrypoints.daemon.runtime_dir import (
    DaemonRefused,
    already_running,
    check_socket_path,
    default_socket,
    device_lock_path,
    live_daemon,
    remove_daemon_file,
    remove_stale_socket,
    write_daemon_file,
)
from entrypoints.daemon.service_host import ServiceHost
from entrypoints.daemon.service_worker import ServiceWorker, WorkerBusy, WorkerStopped
from entrypoints.daemon.watcher import (
    ChangeDetector,
    ChangeHandler,
    Debouncer,
    WatchedPaths,
    book_folders,
    watch_roots,
)
from entrypoints.log_level import log_level

log = logging.getLogger(__name__)

QUIET_SECONDS = 0.5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_BYTES = 512 * 1024


class Stopping(Exception):
    """Raised between two books of a run once the daemon was asked to stop."""


class Daemon:
    """One daemon for one Kobo: lock, socket, daemon.json, watcher and the sync loop."""

    def __init__(
        self,
        root: Path,
        koreader_dir: Path | None,
        *,
        socket_path: Path | None = None,
        pid_file: Path | None = None,
        quiet: float = QUIET_SECONDS,
        open_books: Iterable[str] = (),
    ) -> None:
        self.root = root
        self.open_at_start = list(open_books)
        self.koreader_dir = koreader_dir
        self.requested_socket = socket_path
        self.pid_file = pid_file
        self.quiet = quiet
        self.stopping = threading.Event()
        self.detector = ChangeDetector()
        self._lock: DeviceLock | None = None
        self._worker: ServiceWorker | None = None
        self._server: RpcSocketServer | None = None
        self._observer: Any = None  # watchdog's Observer (untyped)
        self._debouncer: Debouncer | None = None
        self._threads: list[threading.Thread] = []
        self._watched: list[Path] = []
        self._wrote_daemon_file = False
        self._closed = False

    # -- start ------------------------------------------------------------------------------

    def start(self) -> None:
        """Claim the device, open the socket, announce it, then start watching and syncing."""
        try:
            self._claim()
            self._serve()
            self._mark_open_books()
            self._announce()
            self._watch()
        except BaseException:
            self.close()
            raise

    def _claim(self) -> None:
        self._lock = DeviceLock(device_lock_path(self.root))
        try:
            self._lock.acquire(DAEMON)
        except DeviceBusy as busy:
            if busy.holder.role == DAEMON:
                raise DaemonRefused(already_running(self.root)) from None
            holder = busy.holder.pid_text
            message = f"a kksync sync ({holder}) is syncing {self.root}; start the daemon when it is done"
            raise DaemonRefused(message) from None
        if live_daemon(self.root) is not None:  # e.g. one started with another XDG_RUNTIME_DIR
            raise DaemonRefused(already_running(self.root))
        self.socket_path = self.requested_socket or default_socket(self.root)
        check_socket_path(self.socket_path)
        remove_stale_socket(self.socket_path)

    def _serve(self) -> None:
        self._worker = ServiceWorker(after_work=release_memory)  # every sync, list, answer: then tidy
        self.host = ServiceHost(self.root, self.koreader_dir, self._worker)
        dispatcher, self.methods = build_dispatcher(self.host)
        self.memory = self.methods.memory = LibraryMemory(lambda: self.host.container.layout())
        self._server = RpcSocketServer(self.socket_path, dispatcher)
        self._start_thread("kksync-rpc", self._server.serve)
        log.info("serving the plugin RPC on %s", self.socket_path)

    def _mark_open_books(self) -> None:
        """Books open in KOReader as the daemon starts (``--open-book``): the first sync leaves them alone."""
        for path in self.open_at_start:
            self.methods.reader_opened({"path": path})

    def _announce(self) -> None:
        document = {
            "socket": str(self.socket_path),
            "pid": os.getpid(),
            "device": str(self.root),
            "version": kksync_version(),
            "host": gethostname(),
        }
        write_daemon_file(self.root, document)
        self._wrote_daemon_file = True
        if self.pid_file is not None:
            self.pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def _watch(self) -> None:
        self.paths = WatchedPaths(self.root, self.host.koreader_dir)
        self._debouncer = Debouncer(self._on_batch, quiet=self.quiet)
        self._observer = Observer()
        self._observer.daemon = True
        self._add_watches(watch_roots(self.root, self.host.koreader_dir, ()))
        self.host.on_rewired.append(self._follow_koreader_dir)
        self._observer.start()
        self._start_thread("kksync-sync", self._sync_loop)

    def _follow_koreader_dir(self) -> None:
        """After ``settings.set koreader_dir``: recognise and watch the new folder's files too."""
        assert self.paths is not None
        self.paths.follow(self.host.koreader_dir)
        self._add_watches(watch_roots(self.root, self.host.koreader_dir, ()))

    def _start_thread(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _add_watches(self, roots: Iterable[Path]) -> None:
        assert self._observer is not None and self._debouncer is not None
        handler = ChangeHandler(self.paths, self._debouncer)
        for folder in roots:
            if any(folder == seen or seen in folder.parents for seen in self._watched):
                continue
            try:
                self._observer.schedule(handler, str(folder), recursive=True)
            except OSError as error:
                log.warning("cannot watch %s: %s", folder, error)
                continue
            self._watched.append(folder)
            log.info("watching %s", folder)

    # -- syncing ----------------------------------------------------------------------------

    def _sync_loop(self) -> None:
        """Catch up with what changed while no daemon ran, then sync each batch of changes."""
        assert self._debouncer is not None
        try:
            self._catch_up()
        except (Stopping, WorkerStopped):
            return
        except Exception:
            log.exception("the first sync failed; watching for changes anyway")
        self._debouncer.run()

    def _catch_up(self) -> None:
        """Watch every book's sidecar folder first, so a failing first sync cannot leave any unwatched."""

        def book_list(service: SyncService) -> list[Path]:
            books = service.library()
            self.methods.remember_paths(books)
            return sorted(book_folders(books))

        def first_sync(service: SyncService) -> None:
            books: list[KoboBook] = []  # the run's own read of the library, for what follows it

            def tidy_first(found: list[KoboBook]) -> None:
                books.extend(found)
                self._tidy(found)

            if self._auto_sync():
                report = service.sync_all(
                    NobodyToAsk(), on_book=self._unless_stopping, before_books=tidy_first
                )
                self._log_run(report.books)
            else:
                report = service.plan(on_book=self._unless_stopping, before_books=books.extend)
            self.detector.snapshot(service, library=books)
            self.memory.fill(service, books, report)

        folders = self.host.run(book_list, timeout=None)
        self._add_watches(watch_roots(self.root, self.host.koreader_dir, folders))
        self.host.run(first_sync, timeout=None)

    def _tidy(self, books: list[KoboBook]) -> None:
        """Remove what an interrupted run left (the daemon holds the device lock, so none runs now)."""
        readable = (b.file_path for b in books if b.file_state is FileState.READABLE)
        remove_leftovers(self.host.container.kobo_library(), self.host.container.koreader_library(), readable)

    def _on_batch(self, paths: set[str]) -> None:
        if self.stopping.is_set():
            return
        log.debug("%d changed file(s): %s", len(paths), ", ".join(sorted(paths)[:5]))
        try:
            self.host.run(lambda service: self._sync_changes(service, paths))
        except WorkerBusy:
            log.info("the service stayed busy; looking at these changes again shortly")
            if self._debouncer is not None:
                for path in paths:
                    self._debouncer.add(path)
        except (Stopping, WorkerStopped):
            return

    def _sync_changes(self, service: SyncService, paths: Iterable[str] | None = None) -> None:
        """On the worker: which books moved, sync those that are not open, remember the result."""
        changed = self.detector.changed(service, paths)
        self.memory.forget(self.detector.removed)
        if not changed:
            return
        closed = [book_id for book_id in changed if book_id not in service.open_books]
        left_open = sorted(set(changed) - set(closed))
        if left_open:
            log.info("open in KOReader, left alone: %s", ", ".join(left_open))
        synced: list[KoboBook] | None = None  # the sync's own read of these books, when it ran
        if closed and self._auto_sync():
            synced = []
            report = service.sync_all(
                NobodyToAsk(), closed, on_book=self._unless_stopping, before_books=synced.extend
            )
            self._log_run(report.books)
        self.detector.snapshot(service, closed, library=synced)
        self.memory.refresh(service, changed)  # open books too: their positions moved

    def _auto_sync(self) -> bool:
        settings = self.host.settings
        return settings.sync_reading_state and settings.enable_auto_sync

    def _unless_stopping(self, report: BookReport) -> None:
        if self.stopping.is_set():
            raise Stopping("stop requested")

    @staticmethod
    def _log_run(reports: Iterable[BookReport]) -> None:
        for report in reports:
            if report.error:
                log.warning("%s: %s", report.title, report.error)
            elif report.written:
                log.info("%s: %s", report.title, report.decision.transfer.value)
            elif report.question is not None:
                log.info("%s: waiting for an answer (%s)", report.title, report.question.direction.value)

    # -- stop -------------------------------------------------------------------------------

    def wait(self) -> None:
        """Block the calling (main) thread until a stop is requested: no timer, so idle means idle.

        A signal still gets through: CPython runs the handler while the wait is blocked.
        """
        self.stopping.wait()

    def parent_gone(self, reason: str) -> None:
        log.info("%s; stopping", reason)
        self.stopping.set()

    def request_stop(self, reason: str) -> None:
        """SIGTERM or SIGINT (relayed by ``stop_on_signals``, never from the handler itself)."""
        log.info("%s; finishing the book in progress", reason)
        self.stopping.set()

    def close(self) -> None:
        """Stop watching, let the running sync finish its book, then remove every trace (once)."""
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        if self._observer is not None:
            self._observer.stop()
        if self._debouncer is not None:
            self._debouncer.close()
        if self._server is not None:
            self._server.close()
        if self._worker is not None:
            self._worker.stop()
        for thread in self._threads:
            thread.join(timeout=5.0)
        if self._wrote_daemon_file:
            remove_daemon_file(self.root)
        if self.pid_file is not None and self._wrote_daemon_file:
            self.pid_file.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.release()
        log.info("kksync daemon stopped")


def configure_logging(log_file: Path | None) -> None:
    """Foreground logs go to stderr; ``--log-file`` sends them to a file. Level: ``KKSYNC_LOG``."""
    handler: logging.Handler
    if log_file:
        # Bounded: on the Kobo the log may sit in a small tmpfs or on the user's partition.
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_BYTES, backupCount=1, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level, complaint = log_level(os.environ.get("KKSYNC_LOG"), default="INFO")
    root.setLevel(level)
    if complaint is not None:
        log.warning(complaint)
    logging.getLogger("watchdog").setLevel(max(root.level, logging.INFO))  # one line per inotify event


def run_daemon(
    root: Path,
    koreader_dir: Path | None,
    *,
    socket: Path | None,
    log_file: Path | None,
    pid_file: Path | None,
    parent_pid: int | None = None,
    parent_fd: int | None = None,
    open_books: Iterable[str] = (),
) -> int:
    """Run until SIGTERM/SIGINT or the parent's end; 0 after a clean stop.

    A refused start raises ``DaemonRefused``. The priority is lowered before any thread starts.
    """
    configure_logging(log_file)
    lower_priority()
    daemon = Daemon(root, koreader_dir, socket_path=socket, pid_file=pid_file, open_books=open_books)
    with stop_on_signals(daemon.request_stop):
        try:
            watch_parent(daemon.parent_gone, pid=parent_pid, fd=parent_fd)
            daemon.start()
            log.info("kksync daemon %s watching %s (pid %d)", kksync_version(), root, os.getpid())
            daemon.wait()
        finally:
            daemon.close()
    return 0


def run_waiting_daemon(
    koreader_dir: Path | None,
    *,
    log_file: Path | None,
    parents: list[Path] | None = None,
    parent_pid: int | None = None,
    parent_fd: int | None = None,
) -> int:
    """``kksync daemon`` without ``--device``: wait for Kobos to be mounted, sync each once."""
    from entrypoints.daemon.mount_watch import run_waiting

    configure_logging(log_file)
    lower_priority()
    watcher = run_waiting(koreader_dir, parents or None)

    def stop(reason: str) -> None:
        log.info("%s; stopping", reason)
        watcher.stop()

    with stop_on_signals(stop):
        watch_parent(stop, pid=parent_pid, fd=parent_fd)
        watcher.run()
    log.info("kksync daemon stopped")
    return 0


__all__ = ["Daemon", "DaemonRefused", "run_daemon", "run_waiting_daemon"]
