"""Writes EPUB and kepub files from a title, an author and chapters.

Used by ``kksync demo`` (a demo device needs real books), the end-to-end tests and the
benchmark. The output is a valid EPUB 2 package: ``mimetype`` first and stored, the container,
an OPF with manifest and spine, and an NCX table of contents. With ``kepub=True`` every chapter
gets koboSpans by the rules in ``adapters.epub.kobo_spans``. Zip timestamps are fixed, so the
same input always gives the same bytes (kepub span ids are only stable for identical bytes).
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from adapters.epub.kobo_spans import add_kobo_spans
from adapters.epub.markup import numeric_entities
from adapters.epub.xml_parsers import safe_xml_parser

XHTML_NS = "http://www.w3.org/1999/xhtml"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)
CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="{opf}" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


@dataclass(frozen=True)
class ChapterSpec:
    """One spine file: its name relative to the OPF folder and either XHTML body markup or text.

    ``body`` is the inner markup of ``<body>`` (well-formed XHTML; HTML entities allowed);
    without it the chapter is ``title`` as ``<h1>`` followed by one ``<p>`` per paragraph.
    """

    file_name: str
    body: str | None = None
    paragraphs: Sequence[str] = ()
    title: str | None = None
    linear: bool = True
    head: str = ""
    """Extra ``<head>`` markup, e.g. ``<link rel="stylesheet" href="../style.css"/>``."""


@dataclass(frozen=True)
class BookSpec:
    """A book to write. ``opf_dir`` "" puts the OPF at the zip root (calibre's layout)."""

    title: str
    author: str
    chapters: Sequence[ChapterSpec]
    language: str = "en"
    identifier: str | None = None
    opf_dir: str = "OEBPS"
    resources: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def book_id(self) -> str:
        return self.identifier or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, self.title + '/' + self.author)}"


def build_epub(book: BookSpec, destination: Path, *, kepub: bool = False) -> Path:
    """Write the book to ``destination`` (atomically: a half-written book is never visible)."""
    if not book.chapters:
        raise ValueError(f"{book.title!r}: a book needs at least one chapter")
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".build-", suffix=".epub")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            _write(archive, "mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
            _write(
                archive,
                "META-INF/container.xml",
                CONTAINER.format(opf=_in_opf_dir(book, "content.opf")).encode(),
            )
            _write(archive, _in_opf_dir(book, "content.opf"), opf_xml(book))
            _write(archive, _in_opf_dir(book, "toc.ncx"), ncx_xml(book))
            for chapter in book.chapters:
                _write(
                    archive, _in_opf_dir(book, chapter.file_name), chapter_xhtml(chapter, book, kepub=kepub)
                )
            for name, data in book.resources.items():
                _write(archive, _in_opf_dir(book, name), data)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


def chapter_xhtml(chapter: ChapterSpec, book: BookSpec, *, kepub: bool = False) -> bytes:
    """The chapter as an XHTML document, with koboSpans when ``kepub``."""
    title = escape(chapter.title or book.title)
    body = chapter.body if chapter.body is not None else _body_from_text(chapter)
    document = (
        f'<html xmlns="{XHTML_NS}" xml:lang="{escape(book.language)}">'
        f"<head><title>{title}</title>{chapter.head}</head>"
        f"<body>{body}</body></html>"
    )
    try:
        root = etree.fromstring(numeric_entities(document.encode("utf-8")), safe_xml_parser())
    except etree.XMLSyntaxError as error:
        raise ValueError(
            f"{chapter.file_name}: the chapter body is not well-formed XHTML ({error})"
        ) from None
    body_element = root.find(f"{{{XHTML_NS}}}body")
    if kepub and body_element is not None:
        add_kobo_spans(body_element)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


def opf_xml(book: BookSpec) -> bytes:
    items = ['    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>']
    refs = []
    for number, chapter in enumerate(book.chapters, start=1):
        href = _href(chapter.file_name)
        items.append(f'    <item id="ch{number}" href="{href}" media-type="application/xhtml+xml"/>')
        linear = "" if chapter.linear else ' linear="no"'
        refs.append(f'    <itemref idref="ch{number}"{linear}/>')
    for number, name in enumerate(book.resources, start=1):
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        items.append(f'    <item id="res{number}" href="{_href(name)}" media-type="{media_type}"/>')
    manifest, spine = "\n".join(items), "\n".join(refs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="bookid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>{escape(book.title)}</dc:title>
    <dc:creator opf:role="aut">{escape(book.author)}</dc:creator>
    <dc:language>{escape(book.language)}</dc:language>
    <dc:identifier id="bookid">{escape(book.book_id)}</dc:identifier>
  </metadata>
  <manifest>
{manifest}
  </manifest>
  <spine toc="ncx">
{spine}
  </spine>
</package>
""".encode()


def ncx_xml(book: BookSpec) -> bytes:
    points = "\n".join(
        f'    <navPoint id="nav{n}" playOrder="{n}"><navLabel><text>{escape(c.title or c.file_name)}</text>'
        f'</navLabel><content src="{_href(c.file_name)}"/></navPoint>'
        for n, c in enumerate(book.chapters, start=1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="{escape(book.book_id)}"/></head>
  <docTitle><text>{escape(book.title)}</text></docTitle>
  <navMap>
{points}
  </navMap>
</ncx>
""".encode()


def _body_from_text(chapter: ChapterSpec) -> str:
    heading = f"<h1>{escape(chapter.title)}</h1>" if chapter.title else ""
    return heading + "".join(f"<p>{escape(paragraph)}</p>" for paragraph in chapter.paragraphs)


def _in_opf_dir(book: BookSpec, name: str) -> str:
    return posixpath.join(book.opf_dir, name) if book.opf_dir else name


def _href(name: str) -> str:
    return escape(quote(name, safe="/"))


def _write(archive: zipfile.ZipFile, name: str, data: bytes, compression: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
