"""Builds the benchmark's Kobo from a ``library_plan``: book files, Nickel rows, sidecars, history.

Book content comes from a few generated template books (``entrypoints.demo.sample_books``), each
hard-linked under every ContentID that uses it; every book still gets its own Nickel rows with
chapters, its own path, and (when KOReader read it) its own sidecar with highlights and view
settings, so a sync does per book exactly the work a real library would ask for. Positions are
computed from the template's real koboSpans and xpointers, so both sides agree on what a
sentence is, the way a device that was really read would.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from adapters.device import DeviceLayout
from adapters.epub.content import EpubContent
from adapters.epub.document import EpubDocument
from adapters.koreader.locations import sidecar_naming
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from adapters.koreader.partial_md5 import partial_md5
from entrypoints.demo.kepub_builder import build_epub
from entrypoints.demo.nickel_builder import add_epub_book, add_kepub_books, add_pdf_book
from entrypoints.demo.nickel_schema import create_nickel_database
from entrypoints.demo.run import write_history
from entrypoints.demo.sample_books import sample_book
from tests.bench.library_plan import Kind, Place, PlannedBook, Source, plan_library

log = logging.getLogger(__name__)

MARKER = ".kksync-bench"
VERSION_LINE = "N000000BENCH1,4.1.15,4.38.23171,4.1.15,4.1.15,00000000-0000-0000-0000-000000000381\n"
# Text chapters per template book: short stories to long novels (a chapter is ~5 KB of text).
TEMPLATE_CHAPTERS = (6, 10, 14, 18, 24, 30, 8, 12, 20, 36, 16, 40)
PDF_PAGES_PER_CHAPTER = 12
CRE_DOM_VERSION = 20240114
_TRAILING_SPANS = re.compile(r"(/span(\[\d+\])?)+$")


@dataclass
class Template:
    """One generated book file and the positions already converted in it."""

    number: int
    kind: Kind
    path: Path
    opf_dir: str
    document: EpubDocument | None
    chapters: int
    kepub: Template | None = None  # for a plain EPUB: the kepub of the same text
    _xpointers: dict[tuple[int, float], tuple[str | None, str]] = field(default_factory=dict)

    @cached_property
    def digest(self) -> str:
        """KOReader's partial MD5 of the file; every hard-linked copy shares it, so it is computed once."""
        return partial_md5(self.path)

    @property
    def spine(self) -> list[tuple[str, int]]:
        assert self.document is not None
        return [(item.zip_path, item.size) for item in self.document.spine]

    def zip_path(self, chapter: int) -> str:
        """Text chapter ``chapter`` (1-based); spine item 0 is the non-linear cover."""
        assert self.document is not None
        return self.document.spine[chapter].zip_path

    def progress(self, place: Place) -> float:
        """Share of the book read at ``place``, as both readers would measure it."""
        if place.finished:
            return 1.0
        if self.document is None:  # a PDF: chapters are equal runs of pages
            return ((place.chapter - 1) + place.fraction) / self.chapters
        if self.kind is Kind.EPUB:  # no spans: where KOReader's paragraph xpointer lands
            target = self.document.locate(self.span_and_xpointer(place.chapter, place.fraction)[1])
            assert target is not None
            return self.document.chapter_map().progress_at(target.spine_index, target.fraction)
        return self.document.chapter_map().progress_at(place.chapter, place.fraction)

    def span_and_xpointer(self, chapter: int, fraction: float) -> tuple[str | None, str]:
        """The koboSpan at a place (None in a plain EPUB) and KOReader's xpointer of it."""
        key = (chapter, fraction)
        if key not in self._xpointers:
            self._xpointers[key] = self._convert(chapter, fraction)
        return self._xpointers[key]

    def _convert(self, chapter: int, fraction: float) -> tuple[str | None, str]:
        if self.kepub is not None:  # a plain EPUB: the same element without Kobo's wrappers
            return None, plain_xpointer(self.kepub.span_and_xpointer(chapter, fraction)[1])
        assert self.document is not None
        zip_path = self.zip_path(chapter)
        span = self.document.span_at(zip_path, fraction)
        at_span = self.document.span_xpointer(zip_path, span) if span else None
        xpointer = at_span or self.document.chapter_xpointer(zip_path)
        assert xpointer is not None, f"template {self.number}: {zip_path} is not in the spine"
        return span, xpointer


def plain_xpointer(kepub_xpointer: str) -> str:
    """A kepub xpointer's element in the same book without koboSpans.

    Kepubs wrap the body in ``div.book-columns/div.book-inner`` and the text in ``span``s;
    the plain EPUB has neither, so those steps are dropped.
    """
    without_spans = _TRAILING_SPANS.sub("", kepub_xpointer)
    return without_spans.replace("/body/div/div/", "/body/", 1)


@dataclass(frozen=True)
class BuiltDevice:
    """The device and the plan it was built from."""

    layout: DeviceLayout
    books: list[PlannedBook]

    @property
    def kobo_progress(self) -> int:
        return sum(1 for book in self.books if book.kobo is not None)

    @property
    def koreader_sidecars(self) -> int:
        return sum(1 for book in self.books if book.koreader is not None and book.file_present)


def build_device(root: Path, count: int, seed: int = 2026) -> BuiltDevice:
    """A fresh device with ``count`` books in ``root`` (a previous bench device there is replaced)."""
    _prepare(root)
    layout = DeviceLayout(root)
    layout.database.parent.mkdir(parents=True, exist_ok=True)
    (root / ".kobo" / "version").write_text(VERSION_LINE)
    create_nickel_database(layout.database)
    templates = _build_templates(root / ".bench-templates")
    books = plan_library(count, len(TEMPLATE_CHAPTERS), list(TEMPLATE_CHAPTERS), seed)
    for book in books:
        if book.file_present:
            _place_file(templates[(book.kind, book.template)].path, layout.book_host_path(book.content_id))
    _add_rows(layout, books, templates)
    rng = random.Random(seed)
    history = [
        _write_sidecar(layout, book, templates[(book.kind, book.template)], rng)
        for book in books
        if book.koreader is not None and book.file_present
    ]
    write_history(layout, history)
    log.info("built %d books in %s", len(books), root)
    return BuiltDevice(layout, books)


def _prepare(root: Path) -> None:
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise FileExistsError(f"{root} exists and is not a benchmark device; choose another folder")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("Built by `python -m tests.bench.run`; safe to delete.\n")


def _build_templates(folder: Path) -> dict[tuple[Kind, int], Template]:
    """Every template as a kepub, a plain EPUB (same text, no spans) and a PDF stand-in."""
    content = EpubContent()
    templates: dict[tuple[Kind, int], Template] = {}
    for number, chapters in enumerate(TEMPLATE_CHAPTERS):
        opf_dir = "" if number % 3 == 0 else "OEBPS"  # calibre puts content.opf at the zip root
        spec = sample_book(number, chapters=chapters, title=f"Template {number}", opf_dir=opf_dir)
        kepub_path = build_epub(spec, folder / f"{number:02d}.kepub.epub", kepub=True)
        kepub = Template(number, Kind.KEPUB, kepub_path, opf_dir, content.open(kepub_path), chapters)
        epub_path = build_epub(spec, folder / f"{number:02d}.epub", kepub=False)
        epub = Template(number, Kind.EPUB, epub_path, opf_dir, content.open(epub_path), chapters, kepub)
        templates[(Kind.KEPUB, number)], templates[(Kind.EPUB, number)] = kepub, epub
        pdf = _write_pdf(folder / f"{number:02d}.pdf", chapters * PDF_PAGES_PER_CHAPTER)
        templates[(Kind.PDF, number)] = Template(number, Kind.PDF, pdf, "", None, chapters)
    return templates


def _write_pdf(path: Path, pages: int) -> Path:
    """A small file with a PDF header: Nickel's rows and kksync only need it to be there and be a PDF."""
    objects = "".join(f"{n} 0 obj\n<< /Type /Page >>\nendobj\n" for n in range(3, 3 + pages))
    path.write_bytes(f"%PDF-1.4\n% bench stand-in with {pages} pages\n{objects}%%EOF\n".encode())
    return path


def _place_file(template: Path, destination: Path) -> None:
    """Hard-link the template under the book's own path (a copy where links are not possible)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(template, destination)
    except OSError:
        shutil.copyfile(template, destination)


def _add_rows(
    layout: DeviceLayout, books: Sequence[PlannedBook], templates: dict[tuple[Kind, int], Template]
) -> None:
    kepubs = [
        _kepub_arguments(book, templates[(book.kind, book.template)])
        for book in books
        if book.kind is Kind.KEPUB
    ]
    add_kepub_books(layout.database, kepubs)
    for book in books:
        template = templates[(book.kind, book.template)]
        if book.kind is Kind.EPUB:
            add_epub_book(layout.database, **_epub_arguments(book, template))
        elif book.kind is Kind.PDF:
            add_pdf_book(layout.database, **_pdf_arguments(book, template))


def _kepub_arguments(book: PlannedBook, template: Template) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "content_id": book.content_id,
        "title": book.title,
        "author": book.author,
        "chapters": template.spine,
        "opf_dir": template.opf_dir,
        "entitlement_id": book.entitlement_id,
    }
    if book.source is Source.KOMGA:
        arguments |= {"series": f"Bench Saga {book.template}", "series_number": str(book.number % 9 + 1)}
    place = book.kobo
    if place is not None:
        zip_path = template.zip_path(place.chapter)
        span, _ = template.span_and_xpointer(place.chapter, place.fraction)
        arguments |= _reading(place, template) | {
            "bookmark": f"{zip_path}#{span}",
            "chapter_percent_read": {zip_path: round(place.fraction * 100)},
        }
    return arguments


def _epub_arguments(book: PlannedBook, template: Template) -> dict[str, Any]:
    toc = [zip_path for zip_path, _ in template.spine[1:]]
    arguments: dict[str, Any] = {
        "content_id": book.content_id,
        "title": book.title,
        "author": book.author,
        "toc": toc,
        "file_size": template.path.stat().st_size,
    }
    if book.kobo is not None:
        point = f"{template.zip_path(book.kobo.chapter)}#point(/1/4/{2 * book.number % 40 + 2}/1:0)"
        arguments |= _reading(book.kobo, template) | {"bookmark": point}
    return arguments


def _pdf_arguments(book: PlannedBook, template: Template) -> dict[str, Any]:
    pages = template.chapters * PDF_PAGES_PER_CHAPTER
    toc = [(f"Chapter {n}", 1 + (n - 1) * PDF_PAGES_PER_CHAPTER) for n in range(1, template.chapters + 1)]
    arguments: dict[str, Any] = {
        "content_id": book.content_id,
        "title": book.title,
        "author": book.author,
        "toc": toc,
        "file_size": template.path.stat().st_size,
    }
    if book.kobo is not None:
        page = max(1, round(template.progress(book.kobo) * pages))
        arguments |= _reading(book.kobo, template) | {"bookmark": f"#pdfloc(1ef4,{page})&zoom=1&x=0&y=0"}
    return arguments


def _reading(place: Place, template: Template) -> dict[str, Any]:
    return {
        "read_status": 2 if place.finished else 1,
        "percent_read": 100 if place.finished else round(template.progress(place) * 100),
        "date_last_read": place.at,
    }


def _write_sidecar(
    layout: DeviceLayout, book: PlannedBook, template: Template, rng: random.Random
) -> tuple[str, datetime]:
    """KOReader's doc-folder sidecar for the book, dated when KOReader last read it."""
    place = book.koreader
    assert place is not None
    device_path = layout.book_device_path(book.content_id)
    folder, name = sidecar_naming(device_path)
    host = layout.to_host(f"{folder}/{name}")
    assert host is not None, f"{book.content_id}: sidecar outside the device"
    table = _sidecar_table(book, template, place, device_path, rng)
    host.parent.mkdir(parents=True, exist_ok=True)
    host.write_bytes(render_settings_file(table, f"{folder}/{name}"))
    stamp = place.at.timestamp()
    os.utime(host, (stamp, stamp))
    return device_path, place.at


def _sidecar_table(
    book: PlannedBook, template: Template, place: Place, device_path: str, rng: random.Random
) -> LuaTable:
    """What KOReader keeps for a book it read: position, status, props, view options, highlights."""
    progress = template.progress(place)
    table: LuaTable = {
        "doc_path": device_path,
        "percent_finished": progress,
        "partial_md5_checksum": template.digest,
        "summary": {
            "modified": place.at.date().isoformat(),
            "status": "complete" if place.finished else "reading",
        },
        "doc_props": {"title": book.title, "authors": book.author, "language": "en"},
        "stats": {"title": book.title, "authors": book.author, "language": "en", "series": "N/A",
                  "highlights": 0, "notes": 0, "pages": 0, "performance_in_pages": {}},
        "highlight_drawer": "lighten",
        "readermenu_tab_index": 2,
    }  # fmt: skip
    if template.document is None:  # PDF: page positions, kopt_* view options
        pages = template.chapters * PDF_PAGES_PER_CHAPTER
        table |= {"last_page": max(1, round(progress * pages)), "doc_pages": pages, "kopt_zoom_mode": "page"}
        return table
    _, xpointer = template.span_and_xpointer(place.chapter, place.fraction)
    annotations = _annotations(template, place, rng)
    table |= {
        "last_xpointer": xpointer,
        "cre_dom_version": CRE_DOM_VERSION,
        "doc_pages": 20 * template.chapters,
        "copt_font_size": rng.choice((20, 22, 24, 26)),
        "copt_line_spacing": 100,
        "copt_h_page_margins": {1: 15, 2: 15},
        "font_face": "Noto Serif",
        "annotations": {n: annotation for n, annotation in enumerate(annotations, start=1)},
    }
    stats = table["stats"]
    assert isinstance(stats, dict)
    stats |= {"highlights": len(annotations), "notes": sum(1 for a in annotations if "note" in a)}
    return table


def _annotations(template: Template, place: Place, rng: random.Random) -> list[LuaTable]:
    """0-5 highlights before the reading place, in document order, at real xpointers."""
    spots = sorted(
        {(rng.randint(1, place.chapter), rng.randint(1, 9) / 10) for _ in range(rng.randint(0, 5))}
    )
    annotations: list[LuaTable] = []
    for chapter, fraction in spots:
        _, xpointer = template.span_and_xpointer(chapter, fraction)
        annotation: LuaTable = {
            "chapter": f"Chapter {chapter}",
            "color": rng.choice(("yellow", "green", "blue")),
            "datetime": f"2026-08-{rng.randint(10, 28)} 21:{rng.randint(10, 59)}:07",
            "drawer": "lighten",
            "page": xpointer,
            "pos0": xpointer,
            "pos1": xpointer + ".12",
            "text": "a highlighted sentence about a river and a lantern",
        }
        if rng.random() < 0.3:
            annotation["note"] = "Remember this.\nAnd this second line."
        annotations.append(annotation)
    return annotations
