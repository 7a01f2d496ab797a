"""The plugin RPC's methods (docs/rpc.md): validate params, call the service, present the result.

Every call that touches the service goes through the host's single worker thread; the JSON
shapes are the CLI's (``entrypoints.presenters``), so ``sync.plan`` and ``kksync sync --json``
can never disagree. Nothing here knows about sockets or framing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from adapters.config_file import config_path, write_setting
from application.errors import ConfigurationError
from application.records import KoboBook
from application.reports import BookReport, RunReport
from application.service import NobodyToAsk, SyncService
from application.settings import Settings
from entrypoints.daemon.library_memory import LibraryMemory, library_rows
from entrypoints.daemon.rpc_protocol import INVALID_PARAMS, EncodedJson, RpcError
from entrypoints.daemon.service_host import ServiceHost
from entrypoints.presenters import book_report_json, question_json, run_report_json

log = logging.getLogger(__name__)

Params = dict[str, Any]
Handler = Callable[[Params], Any]

VIRTUAL_PREFIX = "KOBO_VIRTUAL://"
"""The kobo.koplugin's virtual paths: ``KOBO_VIRTUAL://<ContentID>/<Author> - <Title>.epub``."""


def kksync_version() -> str:
    try:
        return metadata.version("kksync")
    except metadata.PackageNotFoundError:
        return "unknown"


class RpcMethods:
    """Method name -> handler, over one ``ServiceHost``."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self.version = kksync_version()
        self._open_lock = threading.Lock()
        self._ids_by_path: dict[str, str] = {}
        self.memory: LibraryMemory | None = None
        """Set by the daemon, whose watcher keeps it true; ``kksync rpc`` plans afresh on each call."""

    def table(self) -> dict[str, Handler]:
        return {
            "status": self.status,
            "library.list": self.library_list,
            "sync.plan": self.sync_plan,
            "sync.run": self.sync_run,
            "sync.answer": self.sync_answer,
            "reader.opened": self.reader_opened,
            "reader.closed": self.reader_closed,
            "settings.get": self.settings_get,
            "settings.set": self.settings_set,
        }

    # -- server state ------------------------------------------------------------------------

    def status(self, params: Params) -> Params:
        """Answered without the worker, so a running sync never makes the daemon look dead."""
        _only(params, "status", set())
        return {
            "version": self.version,
            "device": str(self.host.root),
            "koreader_dir": str(self.host.koreader_dir),
            "settings": self.host.settings.as_plain(),
            "open_books": self.open_books(),
        }

    def open_books(self) -> list[str]:
        with self._open_lock:
            return sorted(self.host.service.open_books)

    def library_list(self, params: Params) -> Params | EncodedJson:
        """From the daemon's memory when it holds the library; otherwise from a fresh plan."""
        _only(params, "library.list", set())
        remembered = self.memory.listing() if self.memory is not None else None
        if remembered is not None:
            return remembered

        def listing(service: SyncService) -> Params | EncodedJson:
            books: list[KoboBook] = []
            report = service.plan(before_books=books.extend)  # the plan's own read of the library
            self.remember_paths(books)
            if self.memory is not None:
                self.memory.fill(service, books, report)
                found = self.memory.listing()
                if found is not None:
                    return found
            return {"books": list(library_rows(self.host.container.layout(), books, report.books).values())}

        return self.host.run(listing)

    # -- syncing -----------------------------------------------------------------------------

    def sync_plan(self, params: Params) -> Params:
        books = _book_ids(params, "sync.plan")
        return run_report_json(self.host.run(lambda service: service.plan(books)))

    def sync_run(self, params: Params) -> Params:
        books = _book_ids(params, "sync.run")

        def run(service: SyncService) -> RunReport:
            report = service.sync_all(NobodyToAsk(), books)
            if self.memory is not None:
                if books is None:
                    self.memory.fill(service, service.library(), report)
                else:
                    self.memory.refresh(service, books)
            return report

        return _with_questions(self.host.run(run))

    def sync_answer(self, params: Params) -> Params:
        _only(params, "sync.answer", {"token", "accept"})
        token = params.get("token")
        accept = params.get("accept")
        if not isinstance(token, str) or not token:
            raise RpcError(INVALID_PARAMS, "sync.answer: token must be the question's token (a string)")
        if not isinstance(accept, bool):
            raise RpcError(INVALID_PARAMS, "sync.answer: accept must be true or false")

        def answer(service: SyncService) -> BookReport:
            report = service.answer(token, accept)
            self._refresh(service, [report.book_id])
            return report

        return {"book": book_report_json(self.host.run(answer))}

    # -- KOReader's open book ----------------------------------------------------------------

    def reader_opened(self, params: Params) -> Params:
        """Mark the book open at once: a sync already running checks the set before each write."""
        path = _path(params, "reader.opened")
        book_id = self._book_id_for(path)
        if book_id is not None:
            with self._open_lock:
                self.host.service.open_books.add(book_id)
            log.info("%s is open in KOReader: left alone until it is closed", book_id)
        return {"book_id": book_id, "open_books": self.open_books()}

    def reader_closed(self, params: Params) -> Params:
        """Forget the open book, then sync it when the settings ask for automatic syncs."""
        path = _path(params, "reader.closed")
        book_id = self._book_id_for(path)
        if book_id is None:
            return {"book": None, "questions": []}
        settings = self.host.settings
        if not (settings.sync_reading_state and settings.enable_auto_sync):
            self._forget_open(book_id)
            return {"book": None, "questions": []}

        def sync(service: SyncService) -> BookReport:
            # Closed on the worker, in turn: a watcher batch already queued still leaves the book
            # alone, and this sync is the one that writes it (and says so in its answer).
            self._forget_open(book_id)
            report = service.sync_book(book_id, NobodyToAsk())
            self._refresh(service, [book_id])
            return report

        try:
            report = self.host.run(sync)
        finally:  # busy or stopping: the book is closed all the same, the next change syncs it
            self._forget_open(book_id)
        return {"book": book_report_json(report), "questions": _questions_of(report)}

    def _forget_open(self, book_id: str) -> None:
        with self._open_lock:
            self.host.service.open_books.discard(book_id)

    def _refresh(self, service: SyncService, book_ids: list[str]) -> None:
        if self.memory is not None:
            self.memory.refresh(service, book_ids)

    def _book_id_for(self, path: str) -> str | None:
        if path.startswith(VIRTUAL_PREFIX):
            return path[len(VIRTUAL_PREFIX) :].split("/", 1)[0] or None
        device_path = self._device_path(path)
        known = self._ids_by_path.get(device_path)
        if known is not None:
            return known

        def lookup(service: SyncService) -> str | None:
            self.remember_paths(service.library())
            return self._ids_by_path.get(device_path)

        return self.host.run(lookup)

    def _device_path(self, path: str) -> str:
        """Paths as KOReader on the device sees them; a host path under the mounted Kobo is mapped."""
        layout = self.host.container.layout()
        mapped = layout.to_device(Path(path)) if path.startswith(str(self.host.root)) else None
        return mapped or path

    def remember_paths(self, books: list[KoboBook]) -> None:
        """Index on-device paths to book ids, so ``reader.opened`` rarely needs the worker."""
        self._ids_by_path = {book.device_path: book.book_id for book in books}

    # -- settings ----------------------------------------------------------------------------

    def settings_get(self, params: Params) -> Params:
        _only(params, "settings.get", set())
        return {"settings": self.host.settings.as_plain(), "file": str(config_path(self.host.root))}

    def settings_set(self, params: Params) -> Params:
        """Validate every value first, so a bad one leaves config.toml untouched."""
        if not params:
            raise RpcError(INVALID_PARAMS, "settings.set: give at least one setting, e.g. {key: value}")
        origin = f"settings.set ({config_path(self.host.root)})"
        try:
            Settings().merged(params, origin)
        except ConfigurationError as error:
            raise RpcError(INVALID_PARAMS, str(error)) from None

        def store(_service: SyncService) -> Settings:
            for key, value in params.items():
                write_setting(self.host.root, key, value)
            settings = self.host.load_settings()
            self.host.apply_settings(settings)
            if self.memory is not None:  # e.g. another KOReader folder: every row may differ
                self.memory.forget_all()
            return settings

        settings = self.host.run(store)
        return {"settings": settings.as_plain(), "file": str(config_path(self.host.root))}


def _only(params: Params, method: str, allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise RpcError(INVALID_PARAMS, f"{method}: unknown parameter {unknown[0]!r} (parameters: {known})")


def _book_ids(params: Params, method: str) -> list[str] | None:
    _only(params, method, {"books"})
    books = params.get("books")
    if books is None:
        return None
    if not isinstance(books, list) or not all(isinstance(b, str) and b for b in books):
        raise RpcError(INVALID_PARAMS, f"{method}: books must be a list of book ids (strings)")
    return books


def _path(params: Params, method: str) -> str:
    _only(params, method, {"path"})
    path = params.get("path")
    if not isinstance(path, str) or not path or "\x00" in path:
        raise RpcError(INVALID_PARAMS, f"{method}: path must be the book file's path (a string)")
    return path


def _questions_of(report: BookReport) -> list[Params]:
    return [question_json(report.question)] if report.question and not report.written else []


def _with_questions(report: RunReport) -> Params:
    document = run_report_json(report)
    document["questions"] = [question_json(question) for question in report.questions]
    return document
