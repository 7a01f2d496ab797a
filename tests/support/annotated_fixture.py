"""The real fw 4.38 database with an Art of War kepub whose text holds its four real highlights.

The fixture ships Nickel's ``Bookmark`` rows but not the book. This builds the chapter they name
(``epub/text/translators-intro-1.xhtml``) so that every row's ``Text`` lies exactly between its
``StartContainerPath``/``StartOffset`` and ``EndContainerPath``/``EndOffset``: the spans in between
carry the highlighted words, the spans around them filler sentences. Then a position mapping that
is off by one character, one span or one text node shows up as a text mismatch.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from html import escape
from pathlib import Path

from adapters.device import DeviceLayout
from application.annotation_records import span_of_selector
from entrypoints.demo.kepub_builder import ChapterSpec, build_epub
from tests.e2e.cli.real_fixture import ART_OF_WAR, book_spec, build_real_fixture_device

PARAGRAPHS = 300
SPANS_PER_PARAGRAPH = 3


def span_ids() -> list[str]:
    return [f"kobo.{x}.{y}" for x in range(1, PARAGRAPHS + 1) for y in range(1, SPANS_PER_PARAGRAPH + 1)]


def filler(span: str) -> str:
    return f"Filler {span.replace('.', ' ')} goes here. "


def real_rows(db: Path) -> list[tuple[str, int, str, int, str]]:
    """(start span, start offset, end span, end offset, text) of the book's rows, in span order."""
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        rows = connection.execute(
            "SELECT StartContainerPath, StartOffset, EndContainerPath, EndOffset, Text FROM Bookmark "
            "WHERE VolumeID = ?",
            (ART_OF_WAR.book_id,),
        ).fetchall()
    placed = []
    for start_path, start, end_path, end, text in rows:
        start_span, end_span = span_of_selector(start_path), span_of_selector(end_path)
        assert start_span is not None and end_span is not None
        placed.append((start_span, int(start), end_span, int(end), str(text)))
    order = span_ids()
    return sorted(placed, key=lambda row: order.index(row[0]))


def span_texts(rows: list[tuple[str, int, str, int, str]]) -> dict[str, str]:
    """Every span's text, the rows' words spread over the spans each row covers."""
    order = span_ids()
    texts = {span: filler(span) for span in order}
    for start_span, start, end_span, end, text in rows:
        text = " ".join(text.split())  # one text node per span: no whitespace runs to collapse
        covered = order[order.index(start_span) : order.index(end_span) + 1]
        last = text[len(text) - end :] if end else ""
        body = text[: len(text) - end] if end else text
        holders = covered[:-1] if end == 0 else covered
        pieces = _split(body, len(holders) - (1 if end else 0))
        head = "x" * start
        for index, span in enumerate(holders):
            if span == end_span and end:
                texts[span] = (head if span == start_span else "") + last + " Then more words follow. "
                continue
            piece = pieces[index]
            texts[span] = (head + piece) if span == start_span else piece
    return texts


def _split(text: str, parts: int) -> list[str]:
    if parts <= 0:
        return []
    size = max(1, len(text) // parts)
    pieces = [text[i * size : (i + 1) * size] for i in range(parts - 1)]
    pieces.append(text[(parts - 1) * size :])
    return pieces


def chapter_markup(texts: dict[str, str]) -> str:
    paragraphs = []
    for x in range(1, PARAGRAPHS + 1):
        spans = "".join(
            f'<span class="koboSpan" id="kobo.{x}.{y}">{escape(texts[f"kobo.{x}.{y}"])}</span>'
            for y in range(1, SPANS_PER_PARAGRAPH + 1)
        )
        paragraphs.append(f"<p>{spans}</p>")
    return '<div id="book-columns"><div id="book-inner">' + "\n".join(paragraphs) + "</div></div>"


def annotated_fixture_device(folder: Path) -> DeviceLayout:
    """The real-fixture device, its Art of War rebuilt so the real highlights are in its text."""
    layout = build_real_fixture_device(folder)
    spec = book_spec(layout.database, ART_OF_WAR.book_id)
    body = chapter_markup(span_texts(real_rows(layout.database)))
    chapters = [
        ChapterSpec(chapter.file_name, body=body)
        if chapter.file_name.endswith("translators-intro-1.xhtml")
        else chapter
        for chapter in spec.chapters
    ]
    path = layout.book_host_path(ART_OF_WAR.book_id)
    build_epub(replace(spec, chapters=chapters), path, kepub=True)
    return layout
