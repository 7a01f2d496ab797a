"""``FakeKoboLibrary``: the ``KoboLibrary`` port in memory, for use-case tests and the contract suite.

It applies a ``KoboWrite`` to its records exactly as Nickel's rows would change (whole-second
UTC dates, bookmark split like the real adapter, status and percent, the chapter's percent),
and can pretend the database is locked or read-only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC
from pathlib import Path

from adapters.kobo.bookmark import split_bookmark
from application.errors import BackupError, KoboDatabaseError, KoboDatabaseLocked, ReadOnlyDatabase
from application.records import FileCheck, KoboBook, KoboWrite


class FakeKoboLibrary:
    """Books held as ``KoboBook`` records; ``writes`` lists every successful write in order."""

    def __init__(self, books: Iterable[KoboBook] = (), *, backup_dir: Path | None = None) -> None:
        self._books = {book.book_id: book for book in books}
        self._backup_dir = backup_dir
        self.locked = False
        self.read_only = False
        self.writes: list[tuple[str, KoboWrite]] = []
        self.backups: list[Path] = []
        self.reads = 0

    def books(self, known: Mapping[str, FileCheck] | None = None) -> list[KoboBook]:
        self.reads += 1
        return [self._books[book_id] for book_id in sorted(self._books)]

    def file_checks(self) -> dict[str, FileCheck]:
        """Fake books carry their file state as given; there is no file to check."""
        return {}

    def book(self, book_id: str) -> KoboBook | None:
        return self._books.get(book_id)

    def write(self, book_id: str, change: KoboWrite) -> None:
        if self.read_only:
            raise ReadOnlyDatabase(f"Kobo database (fake) is read-only; '{book_id}' not written")
        if self.locked:
            raise KoboDatabaseLocked(f"Kobo database is locked: '{book_id}' not written to the fake database")
        book = self._books.get(book_id)
        if book is None:
            raise KoboDatabaseError(
                f"Writing '{book_id}' to the fake database: no such book; nothing written"
            )
        chapters = book.chapters
        if change.chapter_content_id is not None:
            if all(chapter.content_id != change.chapter_content_id for chapter in chapters):
                raise KoboDatabaseError(
                    f"Writing '{book_id}': no chapter {change.chapter_content_id}; nothing written"
                )
            chapters = tuple(
                dataclasses.replace(chapter, percent_read=change.chapter_percent_read or 0)
                if chapter.content_id == change.chapter_content_id
                else chapter
                for chapter in chapters
            )
        self._books[book_id] = dataclasses.replace(
            book,
            percent_read=change.percent_read,
            read_status=change.read_status,
            date_last_read=change.date_last_read.astimezone(UTC).replace(microsecond=0),
            bookmark=book.bookmark if change.bookmark is None else split_bookmark(change.bookmark),
            chapters=chapters,
        )
        self.writes.append((book_id, change))

    def backup(self) -> Path:
        if self._backup_dir is None:
            raise BackupError("the fake library has no backup folder")
        self._backup_dir.mkdir(parents=True, exist_ok=True)
        path = self._backup_dir / f"KoboReader-fake-{len(self.backups) + 1}.sqlite"
        path.write_bytes(b"fake backup")
        self.backups.append(path)
        return path

    def ensure_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyDatabase("Kobo database (fake) is read-only")
