"""What the daemon watches, how it waits for quiet, and how it tells which books changed.

Nickel writes its database many times while a book is open and KOReader saves a sidecar by
writing a temporary file and renaming it, so file events come in bursts. The watchdog thread only
records relevant paths; a ``Debouncer`` hands them over once nothing happened for ``quiet``
seconds (or after ``longest`` seconds of non-stop writing). ``ChangeDetector`` then compares each
book's Nickel row and the files its sidecar may live in with the last snapshot, so only books
whose state really moved get synced, and the events of kksync's own writes find nothing new.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from application.records import KoboBook
from application.service import SyncService

log = logging.getLogger(__name__)

DATABASE_NAME = "KoboReader.sqlite"
SIDECAR_FOLDER_SUFFIX = ".sdr"
KOREADER_SIDECAR_FOLDERS = ("docsettings", "hashdocsettings")
HISTORY_NAME = "history.lua"
WRITE_EVENTS = {"created", "modified", "moved", "deleted"}
"""Not opens or closes: kksync's own reads of the database close it "for writing" (it is opened
read-write), which would wake the daemon after each of its own looks, for ever."""


class WatchedPaths:
    """Decides whether a changed path can carry a book's state (database, sidecar, history)."""

    def __init__(self, root: Path, koreader_dir: Path) -> None:
        self.database_folder = _absolute(root / ".kobo")
        self.koreader_dir = _absolute(koreader_dir)

    def follow(self, koreader_dir: Path) -> None:
        """KOReader's folder moved (a setting changed): its files are the relevant ones now."""
        self.koreader_dir = _absolute(koreader_dir)

    def relevant(self, path: str) -> bool:
        candidate = Path(path)
        if candidate.name.startswith(DATABASE_NAME):
            return candidate.parent == self.database_folder
        if any(part.endswith(SIDECAR_FOLDER_SUFFIX) for part in candidate.parts):
            return True
        if candidate == self.koreader_dir / HISTORY_NAME:
            return True
        return any(
            (self.koreader_dir / folder) in candidate.parents or candidate == self.koreader_dir / folder
            for folder in KOREADER_SIDECAR_FOLDERS
        )


class PathSink(Protocol):
    def add(self, path: str) -> None: ...


class ChangeHandler(FileSystemEventHandler):  # type: ignore[misc]
    """watchdog callback: forward the written paths that matter, drop everything else."""

    def __init__(self, paths: WatchedPaths, sink: PathSink) -> None:
        super().__init__()
        self.paths = paths
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in WRITE_EVENTS:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(raw) if raw else ""
            if path and self.paths.relevant(path):
                self.sink.add(path)


class Debouncer:
    """Collects paths and releases them as one batch after a quiet spell."""

    def __init__(
        self,
        on_batch: Callable[[set[str]], None],
        quiet: float = 0.5,
        longest: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_batch = on_batch
        self.quiet = quiet
        self.longest = longest
        self.clock = clock
        self._pending: set[str] = set()
        self._first = 0.0
        self._last = 0.0
        self._closed = False
        self._condition = threading.Condition()

    def add(self, path: str) -> None:
        with self._condition:
            now = self.clock()
            if not self._pending:
                self._first = now
            self._pending.add(path)
            self._last = now
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()

    def run(self) -> None:
        """Hand batches to ``on_batch`` until closed (run on its own thread)."""
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self.on_batch(batch)
            except Exception:  # a failed batch must not stop the watching
                log.exception("handling %d changed file(s) failed", len(batch))

    def _next_batch(self) -> set[str] | None:
        with self._condition:
            while not self._closed:
                if self._pending:
                    now = self.clock()
                    due = min(self._last + self.quiet, self._first + self.longest)
                    if now >= due:
                        batch, self._pending = self._pending, set()
                        return batch
                    self._condition.wait(due - now)
                else:
                    self._condition.wait()
            return None


class ChangeDetector:
    """The last seen state of every book, on both sides, to tell which books changed since.

    Nickel's side is a digest of the book's row (and chapter rows) read by one grouped query,
    plus its file's stat; KOReader's side is the adapter's fingerprint of every file its sidecar
    may be read from (stat and content, no Lua parsed). A batch of changed paths narrows the work:
    only the database changed → no sidecar is looked at; only files in known sidecar folders
    changed → only those books' fingerprints are taken. Call only on the service worker thread.
    """

    def __init__(self) -> None:
        self.rows: dict[str, object] = {}
        self.chapters: dict[str, object] = {}
        self.files: dict[str, tuple[int, int, int] | None] = {}
        self.documents: dict[str, str] = {}
        """Each book's file as text (kept for the daemon's life: a ``Path`` each cost ~250 B more)."""
        self.sidecars: dict[str, str] = {}
        self.folders: dict[str, str | set[str]] = {}
        """Folder -> the book whose sidecar may be in it; a set only for a folder books share."""
        self.highlights: dict[str, str] = {}
        self.removed: set[str] = set()
        """The books the last ``changed`` found gone from Nickel's database (forgotten here)."""

    def snapshot(
        self,
        service: SyncService,
        book_ids: Iterable[str] | None = None,
        library: list[KoboBook] | None = None,
    ) -> None:
        """Record the current state of these books (default: all).

        ``library``: these books as a run just read them (the whole library, or those of
        ``book_ids``), to spare reading them again; only the books' ids and files are taken from
        it, every state is read afresh.
        """
        wanted = None if book_ids is None else list(book_ids)
        if library is not None:
            books = library
        elif wanted is None:
            books = service.library()
        else:
            books = _books(service, wanted)
        rows, chapters = _digests(service, False, wanted), _digests(service, True, wanted)
        candidates = getattr(service.koreader, "sidecar_candidates", None)
        highlights = highlight_revisions(service)
        for book in books:
            book_id = book.book_id
            self.rows[book_id], self.chapters[book_id] = rows.get(book_id, ""), chapters.get(book_id, "")
            self.documents[book_id] = str(book.file_path)
            self.files[book_id] = _file(book.file_path)
            self.sidecars[book_id] = service.koreader.fingerprint(book.file_path)
            self.highlights[book_id] = highlights.get(book_id, "")
            if callable(candidates):
                for path in candidates(book.file_path):
                    self._note_folder(str(path.parent), book_id)

    def changed(self, service: SyncService, paths: Iterable[str] | None = None) -> list[str]:
        """Books whose rows, book file or sidecar files differ from the snapshot (new books included).

        ``paths``: the files the watcher saw change; None compares everything.
        """
        touched = None if paths is None else {str(path) for path in paths}
        database = touched is None or any(Path(path).name.startswith(DATABASE_NAME) for path in touched)
        changed: set[str] = set()
        self.removed = set()
        if database:
            changed |= self._changed_rows(service)
            changed |= self._changed_highlights(service)
        for book_id, document in self.documents.items():
            if _file(document) != self.files.get(book_id):
                changed.add(book_id)
        for book_id in self._sidecar_suspects(touched):
            if book_id in self.documents and service.koreader.fingerprint(
                Path(self.documents[book_id])
            ) != self.sidecars.get(book_id):
                changed.add(book_id)
        return sorted(changed)

    def _changed_highlights(self, service: SyncService) -> set[str]:
        """Books whose Nickel highlight rows differ (one grouped query; none when not synced)."""
        highlights = highlight_revisions(service)
        books = set(highlights) | {book_id for book_id, revision in self.highlights.items() if revision}
        return {
            book_id for book_id in books if highlights.get(book_id, "") != self.highlights.get(book_id, "")
        }

    def _changed_rows(self, service: SyncService) -> set[str]:
        """Books whose row differs; when none does, the chapter rows are compared too (a slower scan)."""
        rows = _digests(service, False)
        self._forget(set(self.rows) - set(rows))
        changed = {book_id for book_id, digest in rows.items() if self.rows.get(book_id) != digest}
        if not changed:
            chapters = _digests(service, True)
            changed = {
                book_id for book_id, digest in chapters.items() if self.chapters.get(book_id) != digest
            }
        return changed

    def _forget(self, gone: set[str]) -> None:
        """Books deleted from Nickel's database: nothing of theirs is compared any more."""
        self.removed |= gone
        for book_id in gone:
            self.rows.pop(book_id, None), self.chapters.pop(book_id, None), self.files.pop(book_id, None)
            self.documents.pop(book_id, None), self.sidecars.pop(book_id, None)
            self.highlights.pop(book_id, None)

    def _sidecar_suspects(self, touched: set[str] | None) -> Iterable[str]:
        """The books a batch of paths can concern: all of them unless every path is in a known folder."""
        if touched is None:
            return list(self.documents)
        suspects: set[str] = set()
        for path in touched:
            name = Path(path).name
            if name.startswith(DATABASE_NAME) and Path(path).parent.name == ".kobo":
                continue
            books = self.folders.get(str(Path(path).parent))
            if books is None:
                return list(self.documents)  # history.lua, settings or a new folder: look at every book
            if isinstance(books, str):
                suspects.add(books)
            else:
                suspects |= books
        return suspects

    def _note_folder(self, folder: str, book_id: str) -> None:
        """Most folders hold one book's sidecar (its own ``.sdr``): no set for those."""
        known = self.folders.get(folder)
        if known is None or known == book_id:
            self.folders[folder] = book_id
        elif isinstance(known, set):
            known.add(book_id)
        else:
            self.folders[folder] = {known, book_id}


def _digests(service: SyncService, chapters: bool, book_ids: list[str] | None = None) -> dict[str, object]:
    """Row digests from the Nickel adapter; any other ``KoboLibrary`` is compared book by book."""
    digests = getattr(service.kobo, "row_digests", None)
    if callable(digests):
        found: dict[str, object] = digests(chapters=chapters, book_ids=book_ids)
        return found
    books = service.library() if book_ids is None else _books(service, book_ids)
    return {book.book_id: repr(book) for book in books}


def _file(path: str | Path) -> tuple[int, int, int] | None:
    """A book file's size and times; not its inode, which FAT renumbers (see ``FileStamp``)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def _books(service: SyncService, book_ids: Iterable[str]) -> list[KoboBook]:
    """Just these books, one short read each (a sync of one book must not read the library)."""
    found = (service.kobo.book(book_id) for book_id in book_ids)
    return [book for book in found if book is not None]


def highlight_revisions(service: SyncService) -> dict[str, str]:
    """Per book, a summary of Nickel's highlight rows (one query), when annotations are synced."""
    if service.annotations is None or not service.settings.sync_annotations:
        return {}
    return service.annotations.kobo_annotations.revisions()


def book_folders(books: Iterable[KoboBook]) -> set[Path]:
    """The folders of books that exist, where doc-mode sidecars appear beside them."""
    return {book.file_path.parent for book in books if book.file_path.parent.is_dir()}


def watch_roots(root: Path, koreader_dir: Path, book_folders: Iterable[Path]) -> list[Path]:
    """The fewest existing folders to watch recursively: Nickel's, KOReader's, the books' own."""
    folders = {_absolute(root / ".kobo"), _absolute(koreader_dir)}
    folders.update(_absolute(folder) for folder in book_folders)
    existing = sorted(folder for folder in folders if folder.is_dir())
    roots: list[Path] = []
    for folder in existing:  # sorted, so a parent comes before its children
        if not any(parent == folder or parent in folder.parents for parent in roots):
            roots.append(folder)
    return roots


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))
