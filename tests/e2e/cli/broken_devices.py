"""A corpus of broken Kobos, each made from a copy of the demo library by breaking one thing
(or, for odd rows and odd files, many small things at once)."""

from __future__ import annotations

import random
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from adapters.device import DeviceLayout
from tests.e2e.cli.devices import ALICE_ID, ART_OF_WAR_ID, MOBY_ID, PRIDE_ID, TIME_MACHINE_ID, sidecar_of

Breaker = Callable[[DeviceLayout], None]


def _sql(layout: DeviceLayout, *statements: str | tuple[str, tuple[object, ...]]) -> None:
    with closing(sqlite3.connect(layout.database)) as connection, connection:
        for statement in statements:
            query, parameters = statement if isinstance(statement, tuple) else (statement, ())
            connection.execute(query, parameters)


def _copy_row(layout: DeviceLayout, source_id: str, new_id: str) -> None:
    with closing(sqlite3.connect(layout.database)) as connection, connection:
        connection.execute(
            "CREATE TEMP TABLE copied AS SELECT * FROM content WHERE ContentID = ?", (source_id,)
        )
        connection.execute("UPDATE copied SET ContentID = ?", (new_id,))
        connection.execute("INSERT INTO content SELECT * FROM copied")
        connection.execute("DROP TABLE copied")


def no_database(layout: DeviceLayout) -> None:
    layout.database.unlink()


def empty_file_as_database(layout: DeviceLayout) -> None:
    layout.database.write_bytes(b"")


def corrupt_database(layout: DeviceLayout) -> None:
    data = bytearray(layout.database.read_bytes())
    data[100:4096] = random.Random(1).randbytes(3996)  # header kept, first page's b-tree destroyed
    layout.database.write_bytes(bytes(data))


def not_a_database(layout: DeviceLayout) -> None:
    layout.database.write_bytes(b"this is a text file, not SQLite\n" * 200)


def missing_tables(layout: DeviceLayout) -> None:
    _sql(layout, "DROP TABLE content")


def missing_columns(layout: DeviceLayout) -> None:
    _sql(
        layout,
        "CREATE TABLE slim AS SELECT ContentID, ContentType, MimeType, BookID, Title FROM content",
        "DROP TABLE content",
        "ALTER TABLE slim RENAME TO content",
    )


def read_only_file(layout: DeviceLayout) -> None:
    layout.database.chmod(0o444)  # root may still write it; kksync must treat it as read-only


def odd_rows(layout: DeviceLayout) -> None:
    _copy_row(layout, PRIDE_ID, "file:///mnt/onboard/" + "Long Name " * 400 + ".kepub.epub")
    _copy_row(layout, PRIDE_ID, "X" * 3000)
    _copy_row(layout, PRIDE_ID, "file:///mnt/onboard/../../etc/passwd")
    _copy_row(layout, PRIDE_ID, "file:///mnt/onboard/a\\b\\c.kepub.epub")
    _copy_row(layout, PRIDE_ID, "file:///mnt/onboard/nul\x00name.kepub.epub")
    _copy_row(layout, PRIDE_ID, "../../../etc/shadow")
    _copy_row(layout, PRIDE_ID, "file:///etc/hosts")
    _copy_row(layout, PRIDE_ID, "")
    _sql(
        layout,
        (
            "UPDATE content SET Title = NULL, MimeType = '', ReadStatus = NULL, ___PercentRead = NULL, "
            "DateLastRead = NULL, ChapterIDBookmarked = NULL, Attribution = NULL WHERE ContentID = ?",
            (ALICE_ID,),
        ),
        (
            "UPDATE content SET DateLastRead = 'yesterday-ish', ___PercentRead = 'lots', ReadStatus = 99, "
            "ChapterIDBookmarked = '!!!#kobo.x.y' WHERE ContentID = ?",
            (MOBY_ID,),
        ),
        (
            "UPDATE content SET ___FileOffset = NULL, ___FileSize = 'big', VolumeIndex = NULL "
            "WHERE BookID = ?",
            (ART_OF_WAR_ID,),
        ),
        (
            "UPDATE content SET ChapterIDBookmarked = 'OEBPS/Text/chapter01.xhtml#kobo.99999.1', "
            "ReadStatus = 1, ___PercentRead = 150 WHERE ContentID = ?",
            (TIME_MACHINE_ID,),
        ),
    )


def _rewrite_zip(book: Path, change: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(book) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(book, "w") as archive:
        for info, data in entries:
            archive.writestr(info, change(info.filename, data))


def odd_files(layout: DeviceLayout) -> None:
    garbage = random.Random(5).randbytes(5000)
    pride_sidecar, alice_sidecar = sidecar_of(layout, PRIDE_ID), sidecar_of(layout, ALICE_ID)
    assert pride_sidecar is not None and alice_sidecar is not None
    pride_sidecar.write_bytes(garbage)  # binary garbage sidecar
    alice_sidecar.unlink()
    alice_sidecar.mkdir()  # a sidecar that is a folder
    moby = layout.book_host_path(MOBY_ID)
    moby.unlink()
    moby.mkdir()  # the book path is a folder
    layout.book_host_path(TIME_MACHINE_ID).write_bytes(b"PK\x03\x04 not really a zip" * 50)
    art = layout.book_host_path(ART_OF_WAR_ID)
    _rewrite_zip(  # a chapter of binary garbage in an XHTML shell
        art,
        lambda name, data: (
            b"<html><body><p>" + garbage + b"</p></body></html>" if name.endswith(".xhtml") else data
        ),
    )
    (layout.koreader_dir / "history.lua").write_bytes(garbage)
    (layout.koreader_dir / "settings.reader.lua").write_text("return { document_metadata_folder = ", "utf-8")


def drm(layout: DeviceLayout) -> None:
    _sql(
        layout,
        ("INSERT INTO content_keys (volumeId, elementId, elementKey) VALUES (?, 'x', 'k')", (PRIDE_ID,)),
    )

    def encrypt(name: str, data: bytes) -> bytes:
        return bytes(byte ^ 0x5A for byte in data) if name.endswith(".xhtml") else data

    _rewrite_zip(layout.book_host_path(ALICE_ID), encrypt)


def broken_kksync_files(layout: DeviceLayout) -> None:
    layout.kksync_dir.mkdir(parents=True, exist_ok=True)
    (layout.kksync_dir / "ledger.sqlite").write_bytes(random.Random(2).randbytes(8192))
    backups = layout.kksync_dir / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    (backups / "KoboReader-20261130T101500Z.sqlite.partial").mkdir()  # named like ours, but a folder


def kksync_folder_is_a_file(layout: DeviceLayout) -> None:
    layout.kksync_dir.parent.mkdir(parents=True, exist_ok=True)
    if layout.kksync_dir.is_dir():
        for path in sorted(layout.kksync_dir.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        layout.kksync_dir.rmdir()
    layout.kksync_dir.write_text("not a folder\n", "utf-8")


BROKEN: dict[str, Breaker] = {
    "no database": no_database,
    "empty file as database": empty_file_as_database,
    "corrupt database": corrupt_database,
    "not a database": not_a_database,
    "missing tables": missing_tables,
    "missing columns": missing_columns,
    "read-only database": read_only_file,
    "odd rows": odd_rows,
    "odd files": odd_files,
    "drm": drm,
    "broken kksync files": broken_kksync_files,
    "kksync folder is a file": kksync_folder_is_a_file,
}
