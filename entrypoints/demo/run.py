"""``kksync demo``: a demo Kobo built from scratch, then synced the way a person would.

The device holds five public-domain books as real kepubs with koboSpans (a Komga id, a
Calibre-Web UUID, a Kobo-store UUID, a Komga book nobody opened, and a sideloaded book with an
apostrophe in its file name), a ``KoboReader.sqlite`` made from Nickel's own DDL, and KOReader
sidecars (with highlights and settings that must survive) and ``history.lua`` in mixed states.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import typer
from rich.console import Console

from adapters.device import DeviceLayout
from adapters.epub.content import EpubContent
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from application.errors import DeviceError
from application.ports import BookDocument
from entrypoints.demo import texts as demo_texts
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from entrypoints.demo.nickel_builder import add_kepub_book
from entrypoints.demo.nickel_schema import create_nickel_database

MARKER = ".kksync-demo"
Chapters = Sequence[tuple[str, Sequence[str]]]


@dataclass(frozen=True)
class Place:
    """Where someone stopped: chapter index, fraction inside it, and when."""

    chapter: int
    fraction: float
    at: datetime
    finished: bool = False


@dataclass(frozen=True)
class DemoBook:
    content_id: str
    title: str
    author: str
    chapters: Chapters
    story: str
    opf_dir: str = "OEBPS"
    entitlement_id: str | None = None
    kobo: Place | None = None
    koreader: Place | None = None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


BOOKS = (
    DemoBook(
        "0RDTATJQNHSQ0",
        "Pride and Prejudice",
        "Jane Austen",
        demo_texts.PRIDE,
        "Komga book, read further in Nickel yesterday: pulled into KOReader at the exact sentence",
        kobo=Place(1, 0.55, _at("2026-11-20T14:30:00")),
        koreader=Place(0, 0.4, _at("2026-11-19T21:02:11")),
    ),
    DemoBook(
        "5e0a7f4c-2b1d-4c8e-9a43-7d2f0c6b1e95",
        "Alice's Adventures in Wonderland",
        "Lewis Carroll",
        demo_texts.ALICE,
        "Calibre-Web book, read further in KOReader: pushed to Nickel at the exact span",
        entitlement_id="5e0a7f4c-2b1d-4c8e-9a43-7d2f0c6b1e95",
        kobo=Place(0, 0.7, _at("2026-11-18T08:15:00")),
        koreader=Place(2, 0.5, _at("2026-11-21T22:40:31")),
    ),
    DemoBook(
        "file:///mnt/onboard/Sun Tzu/Sun Tzu's The Art of War.kepub.epub",
        "The Art of War",
        "Sun Tzu",
        demo_texts.ART_OF_WAR,
        "sideloaded (apostrophe in the file name), never opened in Nickel: KOReader's progress is pushed",
        opf_dir="",
        koreader=Place(1, 0.6, _at("2026-11-22T19:05:00")),
    ),
    DemoBook(
        "c2a8d3f1-6e4b-4b7a-8f0e-3a9d5c1b7e24",
        "Moby-Dick",
        "Herman Melville",
        demo_texts.MOBY_DICK,
        "Kobo-store book, KOReader went back to an earlier chapter: 'older' progress is never pushed",
        entitlement_id="0b9f6c2e-1d7a-4e3b-a5c8-2f4e6d8b0a13",
        kobo=Place(2, 0.5, _at("2026-11-10T10:00:00")),
        koreader=Place(0, 0.2, _at("2026-11-22T07:30:00")),
    ),
    DemoBook(
        "0V8Q3M5K7T2XZ",
        "The Time Machine",
        "H. G. Wells",
        demo_texts.TIME_MACHINE,
        "Komga book nobody opened yet: nothing to sync",
    ),
)


def run_demo(folder: Path, console: Console) -> None:
    """Build the device, then show status, a dry run, a sync and a second sync."""
    layout = build_demo_device(folder)
    console.rule("[bold]kksync demo")
    console.print(f"A demo Kobo was built in [bold]{folder}[/bold]:", highlight=False)
    for book in BOOKS:
        console.print(f"  • [bold]{book.title}[/bold] — {book.story}", highlight=False)
    device = str(folder)
    _run(console, ["status", "--device", device])
    _run(console, ["sync", "--dry-run", "--device", device])
    _run(console, ["sync", "--no-interactive", "--device", device])
    before = fingerprint(layout)
    _run(console, ["sync", "--no-interactive", "--device", device])
    after = fingerprint(layout)
    unchanged = "unchanged" if before == after else "[red]CHANGED[/red]"
    console.print(
        f"Second sync: database, sidecars and ledger are byte-for-byte {unchanged} "
        f"({len(after)} files compared).",
        highlight=False,
        soft_wrap=True,  # the verdict stays one line, whatever the terminal width
    )


def _run(console: Console, arguments: list[str]) -> None:
    from entrypoints.cli.app import app

    console.print()
    console.rule(f"$ kksync {' '.join(arguments)}", style="dim")
    with contextlib.suppress(typer.Exit):
        app(arguments, standalone_mode=False)


def build_demo_device(folder: Path) -> DeviceLayout:
    """A fresh demo device in ``folder`` (a previous demo there is replaced, anything else refused)."""
    _prepare(folder)
    layout = DeviceLayout(folder)
    layout.database.parent.mkdir(parents=True, exist_ok=True)
    (folder / ".kobo" / "version").write_text(
        "N000000DEMO01,4.1.15,4.38.23171,4.1.15,4.1.15,00000000-0000-0000-0000-000000000381\n"
    )
    create_nickel_database(layout.database)
    populate(layout, BOOKS)
    return layout


def populate(layout: DeviceLayout, books: Sequence[DemoBook]) -> None:
    """Add books to a device that has a Nickel database: files, rows, sidecars, ``history.lua``."""
    content = EpubContent()
    history = [entry for book in books if (entry := add_book(layout, content, book)) is not None]
    write_history(layout, history)


def _prepare(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise DeviceError(f"{folder} exists and is not a kksync demo device; choose another folder")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("Built by `kksync demo`; safe to delete.\n")


def add_book(layout: DeviceLayout, content: EpubContent, book: DemoBook) -> tuple[str, datetime] | None:
    """Write the book file, its Nickel rows and its sidecar; return its ``history.lua`` entry."""
    spec = BookSpec(
        title=book.title,
        author=book.author,
        opf_dir=book.opf_dir,
        chapters=[
            ChapterSpec(f"Text/chapter{number:02}.xhtml", title=title, paragraphs=paragraphs)
            for number, (title, paragraphs) in enumerate(book.chapters, start=1)
        ],
    )
    path = build_epub(spec, layout.book_host_path(book.content_id), kepub=True)
    _delivered_an_hour_ago(path)
    document = content.open(path)
    spine = [(item.zip_path, item.size) for item in document.spine]
    chapter_map = document.chapter_map()
    reading: dict[str, object] = {}
    if book.kobo is not None:
        zip_path = spine[book.kobo.chapter][0]
        span = document.span_at(zip_path, book.kobo.fraction)
        assert span is not None
        # Nickel stores where the span starts, so its percents follow the span, not the wish.
        fraction = document.span_fraction(zip_path, span) or 0.0
        reading = {
            "read_status": 2 if book.kobo.finished else 1,
            "percent_read": round(chapter_map.progress_at(book.kobo.chapter, fraction) * 100),
            "date_last_read": book.kobo.at,
            "bookmark": f"{zip_path}#{span}",
            "chapter_percent_read": {zip_path: round(fraction * 100)},
        }
    add_kepub_book(
        layout.database,
        content_id=book.content_id,
        title=book.title,
        author=book.author,
        chapters=spine,
        opf_dir=book.opf_dir,
        entitlement_id=book.entitlement_id
        or (None if book.content_id.startswith("file://") else book.content_id),
        **reading,  # type: ignore[arg-type]
    )
    if book.koreader is None:
        return None
    device_path = layout.book_device_path(book.content_id)
    write_sidecar(layout, device_path, document, book)
    return device_path, book.koreader.at


def write_sidecar(layout: DeviceLayout, device_path: str, document: BookDocument, book: DemoBook) -> None:
    """A sidecar as KOReader leaves it, with a highlight and view settings kksync must keep."""
    place = book.koreader
    assert place is not None
    zip_path = document.spine[place.chapter].zip_path
    span = document.span_at(zip_path, place.fraction)
    xpointer = document.span_xpointer(zip_path, span) if span else None
    xpointer = xpointer or document.chapter_xpointer(zip_path)
    first = document.chapter_xpointer(document.spine[0].zip_path)
    assert xpointer is not None and first is not None
    progress = document.chapter_map().progress_at(place.chapter, place.fraction)
    stem = device_path[: device_path.rfind(".")] if "." in PurePosixPath(device_path).name else device_path
    sidecar_device = f"{stem}.sdr/metadata.epub.lua"
    sidecar = layout.to_host(sidecar_device)
    assert sidecar is not None
    table: LuaTable = {
        "annotations": {
            1: {
                "chapter": book.chapters[0][0],
                "color": "yellow",
                "datetime": "2026-11-01 20:14:03",
                "drawer": "lighten",
                "note": "Remember this line.\nSecond line of the note.",
                "page": first,
                "pos0": first,
                "pos1": first,
                "text": book.chapters[0][1][0][:60],
            }
        },
        "cre_dom_version": 20240114,
        "copt_font_size": 22,
        "copt_h_page_margins": {1: 15, 2: 15},
        "doc_pages": 48,
        "doc_path": device_path,
        "last_xpointer": xpointer,
        "percent_finished": progress,
        "summary": {
            "modified": place.at.date().isoformat(),
            "status": "complete" if place.finished else "reading",
        },
    }
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_bytes(render_settings_file(table, sidecar_device))
    stamp = place.at.timestamp()
    os.utime(sidecar, (stamp, stamp))


def write_history(layout: DeviceLayout, entries: list[tuple[str, datetime]]) -> None:
    ordered = sorted(entries, key=lambda entry: entry[1], reverse=True)
    table: LuaTable = {
        n: {"file": path, "time": int(at.timestamp())} for n, (path, at) in enumerate(ordered, start=1)
    }
    history = layout.koreader_dir / "history.lua"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_bytes(render_settings_file(table, "./history.lua"))


def _delivered_an_hour_ago(path: Path) -> None:
    """Date the book file as one delivered before the demo starts, as on a real Kobo.

    A file written within the last 2 seconds (FAT's mtime step) could still change unseen, so
    kksync does not remember it as unchanged; a demo whose books were written a moment ago would
    have its second sync store what the first could not, however quickly the machine runs it.
    """
    an_hour_ago = time.time_ns() - 3600 * 1_000_000_000
    os.utime(path, ns=(an_hour_ago, an_hour_ago))


def fingerprint(layout: DeviceLayout) -> dict[str, str]:
    """SHA-256 of every file kksync could write: the database, sidecars, the ledger, history."""
    files = [p for p in layout.root.rglob("*") if p.is_file() and "backups" not in p.parts]
    return {
        str(p.relative_to(layout.root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)
    }
