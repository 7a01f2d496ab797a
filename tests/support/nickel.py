"""Test helpers for Nickel databases: the real fixture, building sample devices, dumps."""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from adapters.device import DeviceLayout
from adapters.kobo.builder import add_epub_book, add_kepub_book, add_pdf_book
from adapters.kobo.schema import create_nickel_database
from tests.fixtures import KOBO_FW438_DATABASE


def real_fixture() -> Path:
    """The real firmware 4.38 database that ships with the tests (read-only: copy it first)."""
    return KOBO_FW438_DATABASE


def device_with_real_fixture(root: Path) -> DeviceLayout:
    """A device whose database is a private, writable copy of the real firmware 4.38 fixture."""
    layout = DeviceLayout(root)
    layout.database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real_fixture(), layout.database)
    return layout


def empty_device(
    root: Path, *, journal_mode: str = "delete", drop_columns: tuple[str, ...] = ()
) -> DeviceLayout:
    layout = DeviceLayout(root)
    create_nickel_database(layout.database, journal_mode=journal_mode, drop_columns=drop_columns)
    return layout


@dataclass(frozen=True)
class SampleIds:
    """The ContentIDs of the sample library, one per kind of book Nickel holds."""

    komga: str = "0RDTATJQNHSQ0"
    calibre_web: str = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
    store: str = "c00698f0-3836-4428-b0fc-48354822fa80"
    sideloaded: str = 'file:///mnt/onboard/Bücher/O\'Brien "Quoted" 100% _x_ – Ünïcode.kepub.epub'
    adobe: str = "file:///mnt/onboard/Plain/Adobe book.epub"
    pdf: str = "file:///mnt/onboard/Unknown - Unknown.pdf"
    missing: str = "file:///mnt/onboard/Gone/never copied.kepub.epub"
    corrupt: str = "file:///mnt/onboard/Broken/half downloaded.kepub.epub"


IDS = SampleIds()
KOMGA_SPINE = [
    ("OEBPS/Text/cover.xhtml", 1_000),
    ("OEBPS/Text/ch1.xhtml", 30_000),
    ("OEBPS/Text/ch2.xhtml", 69_000),
]
ROOT_SPINE = [("titlepage.xhtml", 500), ("index_split_000.html", 40_000), ("index_split_001.html", 59_500)]
NASTY_SPINE = [
    ("OEBPS/Text/cover page.xhtml", 800),
    ("OEBPS/Text/chap 1 'a' \"b\" 50%_ü.xhtml", 45_000),
    ("OEBPS/Text/chap!2.xhtml", 54_200),
]


def populate_sample_library(layout: DeviceLayout) -> None:
    """Every kind of book Nickel holds, with book files where they would be on a device."""
    db = layout.database
    add_kepub_book(
        db,
        content_id=IDS.komga,
        title="Komga Book",
        author="K. Author",
        chapters=KOMGA_SPINE,
        entitlement_id=IDS.komga,
        read_status=1,
        percent_read=31,
        date_last_read="2025-03-01T10:00:00Z",
        bookmark="OEBPS/Text/ch1.xhtml#kobo.12.3",
        series="Saga",
        series_number="2",
    )
    add_kepub_book(
        db,
        content_id=IDS.calibre_web,
        title="Calibre-Web Book",
        author="C. W.",
        chapters=ROOT_SPINE,
        opf_dir="",
        entitlement_id=IDS.calibre_web,
    )
    add_kepub_book(
        db,
        content_id=IDS.store,
        title="Store Book",
        author="S. Tore",
        chapters=KOMGA_SPINE,
        entitlement_id="c10eb3a7-d7da-47ad-9b1a-c0ba7e2a6dff",
        read_status=1,
        percent_read=5,
        date_last_read="2024-09-01 20:55:40.1234567+02:00",
        bookmark="#",
    )
    add_kepub_book(
        db,
        content_id=IDS.sideloaded,
        title="Nasty 'name' \"book\" 100%_",
        author="Ünïcode",
        chapters=NASTY_SPINE,
        sideloaded=True,
        read_status=1,
        percent_read=40,
        date_last_read="2025-02-04T17:17:15Z",
        bookmark="OEBPS/Text/chap 1 'a' \"b\" 50%_ü.xhtml#kobo.7.1",
        chapter_percent_read={"OEBPS/Text/chap 1 'a' \"b\" 50%_ü.xhtml": 30},
    )
    add_epub_book(
        db,
        content_id=IDS.adobe,
        title="Adobe Book",
        toc=["OEBPS/cha01.xhtml", "OEBPS/cha02.xhtml#s2"],
        read_status=1,
        percent_read=12,
        bookmark="OEBPS/cha01.xhtml#point(/1/4/8/7:211)",
        date_last_read="2025-01-01T00:00:00",
    )
    add_pdf_book(
        db,
        content_id=IDS.pdf,
        title="A PDF",
        toc=[("Intro", 0), ("Appendix", 3)],
        bookmark="#pdfloc(1ef4,8)&zoom=1&x=243&y=400",
    )
    add_kepub_book(db, content_id=IDS.missing, title="Missing", chapters=KOMGA_SPINE)
    add_kepub_book(db, content_id=IDS.corrupt, title="Corrupt", chapters=KOMGA_SPINE)
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute(
            "INSERT INTO content_keys VALUES (?, ?, ?)", (IDS.store, "OEBPS/Text/ch1.xhtml", "k")
        )
    _write_epub(layout.book_host_path(IDS.komga), [path for path, _ in KOMGA_SPINE])
    _write_epub(layout.book_host_path(IDS.calibre_web), [path for path, _ in ROOT_SPINE])
    _write_epub(layout.book_host_path(IDS.store), [path for path, _ in KOMGA_SPINE])
    _write_epub(layout.book_host_path(IDS.sideloaded), [path for path, _ in NASTY_SPINE])
    _write_epub(layout.book_host_path(IDS.adobe), ["OEBPS/cha01.xhtml", "OEBPS/cha02.xhtml"])
    _write_file(layout.book_host_path(IDS.pdf), b"%PDF-1.4\n%%EOF\n")
    _write_file(layout.book_host_path(IDS.corrupt), b"PK\x03\x04 truncated download")


def sample_device(
    root: Path, *, journal_mode: str = "delete", drop_columns: tuple[str, ...] = ()
) -> DeviceLayout:
    layout = empty_device(root, journal_mode=journal_mode, drop_columns=drop_columns)
    populate_sample_library(layout)
    return layout


def content_dump(db: Path) -> list[tuple[object, ...]]:
    """Every row and column of ``content`` with SQLite's storage class, in ContentID order."""
    with closing(sqlite3.connect(db)) as connection:
        names = [row[1] for row in connection.execute("PRAGMA table_info(content)")]
        typed = ", ".join(f'typeof("{name}"), quote("{name}")' for name in names)
        return list(connection.execute(f"SELECT {typed} FROM content ORDER BY ContentID"))


def schema_dump(db: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as connection:
        return list(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"))


def journal_mode(db: Path) -> str:
    with closing(sqlite3.connect(db)) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


def _write_epub(path: Path, spine: list[str], *, extra: dict[str, str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml", "<container/>")
        for name in spine:
            archive.writestr(name, f"<html><body><p>{name}</p></body></html>")
        for name, body in (extra or {}).items():
            archive.writestr(name, body)


def write_epub(path: Path, spine: list[str], *, extra: dict[str, str] | None = None) -> None:
    """A minimal zip shaped like an EPUB, with ``extra`` members (e.g. DRM markers)."""
    _write_epub(path, spine, extra=extra)


def _write_file(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


Cells = dict[tuple[str, str], tuple[str, str]]


def content_cells(db: Path) -> Cells:
    """Every cell of ``content`` as (storage class, SQL literal), keyed by (ContentID, column)."""
    with closing(sqlite3.connect(db)) as connection:
        names = [row[1] for row in connection.execute("PRAGMA table_info(content)")]
        typed = ", ".join(f'typeof("{name}"), quote("{name}")' for name in names)
        cells = {}
        for row in connection.execute(f"SELECT ContentID, {typed} FROM content"):
            for index, name in enumerate(names):
                cells[(row[0], name)] = (row[1 + 2 * index], row[2 + 2 * index])
        return cells


def changed_cells(
    before: dict[tuple[str, str], tuple[str, str]], after: dict[tuple[str, str], tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """The cells whose storage class or value differ (the row sets must be the same)."""
    assert before.keys() == after.keys()
    return {key: after[key] for key in before if before[key] != after[key]}
