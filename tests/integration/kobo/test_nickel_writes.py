"""Writing pushes into generated Nickel databases: exact cells, journal modes, locks, old firmware."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.kobo.library import NickelLibrary
from application.errors import DeviceError, KoboDatabaseLocked, ReadOnlyDatabase
from application.records import BookSource, KoboWrite
from entrypoints.demo.nickel_schema import COMPANION_DDL, CONTENT_DDL
from tests.support.nickel import (
    IDS,
    changed_cells,
    content_cells,
    journal_mode,
    populate_sample_library,
    sample_device,
    schema_dump,
)

WHEN = datetime(2025, 7, 14, 9, 5, 3, tzinfo=UTC)


@contextmanager
def write_lock_held(db: Path) -> Iterator[None]:
    """Another process's writer, as Nickel would be while it saves."""
    with closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE content SET Title = Title WHERE ContentID = ?", (IDS.komga,))
        try:
            yield
        finally:
            holder.execute("ROLLBACK")


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_push_writes_exactly_the_named_cells_and_keeps_the_journal_mode(tmp_path: Path, mode: str) -> None:
    layout = sample_device(tmp_path, journal_mode=mode)
    library = NickelLibrary(layout)
    book = library.book(IDS.sideloaded)
    assert book is not None
    chapter = book.chapters[2]
    before, schema = content_cells(layout.database), schema_dump(layout.database)
    library.write(
        IDS.sideloaded,
        KoboWrite(
            percent_read=93,
            read_status=2,
            date_last_read=WHEN,
            bookmark=f"{chapter.zip_path}#kobo.4.2",
            chapter_content_id=chapter.content_id,
            chapter_percent_read=88,
        ),
    )
    library.close()
    assert changed_cells(before, content_cells(layout.database)) == {
        (IDS.sideloaded, "___PercentRead"): ("integer", "93"),
        (IDS.sideloaded, "ReadStatus"): ("integer", "2"),
        (IDS.sideloaded, "DateLastRead"): ("text", "'2025-07-14T09:05:03Z'"),
        (IDS.sideloaded, "ChapterIDBookmarked"): ("text", "'OEBPS/Text/chap!2.xhtml#kobo.4.2'"),
        (chapter.content_id, "___PercentRead"): ("integer", "88"),
    }  # this opened sideloaded book already had FirstTimeReading/ReadStateSynced 'false'
    assert schema_dump(layout.database) == schema
    assert journal_mode(layout.database) == mode


def test_push_marks_a_server_book_for_upload(tmp_path: Path) -> None:
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    before = content_cells(layout.database)
    library.write(IDS.calibre_web, KoboWrite(percent_read=3, read_status=1, date_last_read=WHEN))
    changed = changed_cells(before, content_cells(layout.database))
    assert changed[(IDS.calibre_web, "ReadStateSynced")] == ("text", "'false'")
    assert changed[(IDS.calibre_web, "FirstTimeReading")] == ("text", "'false'")
    assert (IDS.calibre_web, "ChapterIDBookmarked") not in changed
    assert {content_id for content_id, _ in changed} == {IDS.calibre_web}


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_a_held_write_lock_times_out_and_nothing_is_written(tmp_path: Path, mode: str) -> None:
    layout = sample_device(tmp_path, journal_mode=mode)
    library = NickelLibrary(layout, busy_timeout_seconds=0.3)
    before = content_cells(layout.database)
    with write_lock_held(layout.database):
        assert len(library.books()) == 8  # reading does not need the write lock
        started = time.monotonic()
        with pytest.raises(KoboDatabaseLocked) as caught:
            library.write(IDS.komga, KoboWrite(percent_read=50, read_status=1, date_last_read=WHEN))
        waited = time.monotonic() - started
    assert 0.25 <= waited < 5
    message = str(caught.value)
    assert message.startswith("Kobo database is locked")
    assert IDS.komga in message and str(layout.database) in message and "\n" not in message
    assert content_cells(layout.database) == before
    assert journal_mode(layout.database) == mode
    library.write(IDS.komga, KoboWrite(percent_read=50, read_status=1, date_last_read=WHEN))  # free again


def test_older_firmware_without_newer_columns_reads_and_writes_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = sample_device(tmp_path, drop_columns=("ReadStateSynced", "SeriesNumber"))
    library = NickelLibrary(layout)
    with caplog.at_level(logging.WARNING, logger="adapters.kobo"):
        assert len(library.books()) == 8
        library.write(IDS.komga, KoboWrite(percent_read=64, read_status=1, date_last_read=WHEN))
        book = library.book(IDS.komga)
        library.books()
    assert book is not None and book.percent_read == 64 and book.series_number is None
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ReadStateSynced" in warnings[0].getMessage()


def test_content_type_stored_as_integer_is_matched(tmp_path: Path) -> None:
    layout = DeviceLayout(tmp_path)
    layout.database.parent.mkdir(parents=True)
    with closing(sqlite3.connect(layout.database)) as connection, connection:
        connection.execute(CONTENT_DDL.replace("ContentType TEXT NOT NULL", "ContentType NOT NULL"))
        for statement in COMPANION_DDL:
            connection.execute(statement)
    populate_sample_library(layout)
    with closing(sqlite3.connect(layout.database)) as connection, connection:
        connection.execute("UPDATE content SET ContentType = CAST(ContentType AS INTEGER)")
        assert connection.execute("SELECT DISTINCT typeof(ContentType) FROM content").fetchall() == [
            ("integer",)
        ]
    library = NickelLibrary(layout)
    books = library.books()
    assert len(books) == 8
    komga = library.book(IDS.komga)
    assert komga is not None and komga.source is BookSource.KOMGA and len(komga.chapters) == 3
    library.write(
        IDS.komga,
        KoboWrite(
            percent_read=2,
            read_status=1,
            date_last_read=WHEN,
            chapter_content_id=komga.chapters[0].content_id,
            chapter_percent_read=70,
        ),
    )
    after = library.book(IDS.komga)
    assert after is not None and after.percent_read == 2 and after.chapters[0].percent_read == 70


def test_a_file_without_write_permission_is_read_only(tmp_path: Path) -> None:
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    library.ensure_writable()
    layout.database.chmod(0o444)
    try:
        with pytest.raises(ReadOnlyDatabase, match="read-only"):
            library.ensure_writable()
    finally:
        layout.database.chmod(0o644)


def test_a_folder_the_process_cannot_write_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    real_access = os.access
    folder = layout.database.parent

    def access(path: str | os.PathLike[str], mode: int) -> bool:  # what os.access says for a non-root user
        return False if Path(path) == folder and mode == os.W_OK else real_access(path, mode)

    monkeypatch.setattr("adapters.kobo.library.os.access", access)
    with pytest.raises(ReadOnlyDatabase, match=str(folder)):
        library.ensure_writable()


@pytest.mark.skipif(
    os.geteuid() == 0 if hasattr(os, "geteuid") else False, reason="root writes read-only files"
)
def test_writing_a_read_only_file_raises_read_only(tmp_path: Path) -> None:
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    layout.database.chmod(0o444)
    try:
        with pytest.raises(ReadOnlyDatabase):
            library.write(IDS.komga, KoboWrite(percent_read=1, read_status=1, date_last_read=WHEN))
    finally:
        layout.database.chmod(0o644)


@pytest.mark.skipif(not hasattr(os, "statvfs"), reason="no statvfs on this platform")
def test_a_kobo_mounted_read_only_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Kobo the host mounted read-only (e.g. a dirty FAT): the file system says so, not the file."""
    layout = sample_device(tmp_path)
    library = NickelLibrary(layout)
    library.ensure_writable()
    real_statvfs = os.statvfs
    device_folder = str(layout.database.parent)

    class ReadOnlyMount:
        def __init__(self, result: os.statvfs_result) -> None:
            self.f_flag = result.f_flag | os.ST_RDONLY

    def statvfs(path: str | Path) -> object:
        result = real_statvfs(path)
        return ReadOnlyMount(result) if str(path) == device_folder else result

    monkeypatch.setattr(os, "statvfs", statvfs)
    before = layout.database.read_bytes()
    with pytest.raises(ReadOnlyDatabase, match="read-only file system"):
        library.ensure_writable()
    assert layout.database.read_bytes() == before


def test_a_device_without_database_is_a_device_error(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="No Kobo database"):
        NickelLibrary(DeviceLayout(tmp_path))
    assert not DeviceLayout(tmp_path).database.exists()
