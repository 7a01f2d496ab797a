"""A device made of the real firmware 4.38 ``KoboReader.sqlite`` and book files generated to match it.

The fixture holds 34 books but no book files. Every kepub Nickel has chapter rows for (the 24 it
downloaded and opened) gets an EPUB whose spine is exactly that book's ContentType 9 rows
(``<bookpart>!<opfdir>!<href>``, in ``VolumeIndex`` order), so every chapter has koboSpans; in the
two books Nickel has a bookmark in, the bookmarked chapter has enough paragraphs that the
bookmarked koboSpan exists. The PDF row gets a PDF file. The 9 store books with no chapter rows
(``IsDownloaded='false'``) stay without a file, as on a Kobo that never downloaded them.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from adapters.device import DeviceLayout
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from tests.support.nickel import real_fixture

KEPUB_MIME = "application/x-kobo-epub+zip"
PARAGRAPHS_PER_CHAPTER = 3


@dataclass(frozen=True)
class Bookmarked:
    """A fixture book with a Nickel bookmark: where it is and how many paragraphs reach the span."""

    book_id: str
    zip_path: str
    span: str


SEVEN_PRINCIPLES = Bookmarked(
    "c00698f0-3836-4428-b0fc-48354822fa80", "OEBPS/Text/12_Chapter05.xhtml", "kobo.115.1"
)
ART_OF_WAR = Bookmarked(
    "file:///mnt/onboard/Sun Tzu/Art of War, The - Sun Tzu.kepub.epub",
    "epub/text/translators-intro-1.xhtml",
    "kobo.275.1",
)
BOOKMARKED = (SEVEN_PRINCIPLES, ART_OF_WAR)
PDF_ID = "file:///mnt/onboard/Unknown - Unknown.pdf"
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def build_real_fixture_device(folder: Path) -> DeviceLayout:
    layout = DeviceLayout(folder)
    layout.database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real_fixture(), layout.database)
    for book_id in downloaded_kepubs(layout.database):
        build_epub(book_spec(layout.database, book_id), layout.book_host_path(book_id), kepub=True)
    pdf = layout.book_host_path(PDF_ID)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(MINIMAL_PDF)
    return layout


def downloaded_kepubs(db: Path) -> list[str]:
    """The kepub book rows that have chapter rows, i.e. whose file Nickel has processed."""
    with closing(_read_only(db)) as connection:
        rows = connection.execute(
            "SELECT ContentID FROM content AS book WHERE ContentType = 6 AND MimeType = ? AND EXISTS "
            "(SELECT 1 FROM content WHERE BookID = book.ContentID AND ContentType = 9) ORDER BY ContentID",
            (KEPUB_MIME,),
        ).fetchall()
    return [book_id for (book_id,) in rows]


def book_spec(db: Path, book_id: str) -> BookSpec:
    """An EPUB whose spine is the book's chapter rows; a bookmarked chapter is long enough."""
    bookmarked = next((book for book in BOOKMARKED if book.book_id == book_id), None)
    with closing(_read_only(db)) as connection:
        title, author = connection.execute(
            "SELECT Title, Attribution FROM content WHERE ContentID = ?", (book_id,)
        ).fetchone()
        rows = connection.execute(
            "SELECT ContentID FROM content WHERE BookID = ? AND ContentType = 9 ORDER BY VolumeIndex",
            (book_id,),
        ).fetchall()
    opf_dirs, chapters = set(), []
    for (chapter_id,) in rows:
        _, opf_dir, href = chapter_id.rsplit("!", 2)
        opf_dirs.add(opf_dir)
        zip_path = f"{opf_dir}/{href}" if opf_dir else href
        if bookmarked is not None and zip_path == bookmarked.zip_path:
            paragraphs = _paragraphs_reaching(bookmarked.span)
        else:
            paragraphs = _paragraphs(PARAGRAPHS_PER_CHAPTER)
        chapters.append(ChapterSpec(href, title=href, paragraphs=paragraphs))
    assert len(opf_dirs) == 1, f"{book_id}: chapter rows disagree on the OPF folder"
    return BookSpec(title=title, author=author or "Unknown", chapters=chapters, opf_dir=opf_dirs.pop())


def _read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)


def _paragraphs_reaching(span: str) -> list[str]:
    """Paragraphs enough for ``kobo.X.Y`` to exist, with a good stretch of text after it."""
    paragraph_number = int(span.split(".")[1])
    return _paragraphs(paragraph_number + 20)


def _paragraphs(count: int) -> list[str]:
    return [
        f"Paragraph {n} begins here and says something. It goes on a little longer. It ends."
        for n in range(1, count + 1)
    ]
