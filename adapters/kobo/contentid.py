"""What a ContentID says about a book: where it came from, which renderer reads it, chapter paths.

Facts from docs/reference/kobo.md §2: sideloaded books are ``file://`` URLs; Komga ids are
13-character Crockford base32 TSIDs; Calibre-Web ids are calibre UUIDs whose ``EntitlementId``
repeats the ContentID; Kobo store ids are UUIDs with a different (or empty) ``EntitlementId``.
"""

from __future__ import annotations

import re

from adapters.device import FILE_SCHEME
from application.records import BookKind, BookSource

KEPUB_MIME = "application/x-kobo-epub+zip"
EPUB_MIME = "application/epub+zip"
PDF_MIME = "application/pdf"
CHAPTER_SEPARATOR = "!"

_KINDS = {KEPUB_MIME: BookKind.KEPUB, EPUB_MIME: BookKind.EPUB, PDF_MIME: BookKind.PDF}
_CROCKFORD_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{13}", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def book_source(content_id: str, entitlement_id: str | None = None) -> BookSource:
    """Classify a book row by its ContentID (and ``EntitlementId``).

    Shapes outside the known four are mapped to the closest one: a bare absolute path is a
    sideloaded file written without its scheme; any other id names a file Nickel downloaded into
    ``.kobo/kepub``, from a sync server when ``EntitlementId`` repeats the ContentID (the way
    Calibre-Web and Komga both fill it), else from the Kobo store.
    """
    if content_id.startswith(FILE_SCHEME) or content_id.startswith("/"):
        return BookSource.SIDELOADED
    if _CROCKFORD_ID.fullmatch(content_id):
        return BookSource.KOMGA
    mirrors_entitlement = bool(entitlement_id) and (entitlement_id or "").lower() == content_id.lower()
    if _UUID.fullmatch(content_id):
        return BookSource.CALIBRE_WEB if mirrors_entitlement else BookSource.KOBO_STORE
    return BookSource.CALIBRE_WEB if mirrors_entitlement else BookSource.KOBO_STORE


def book_kind(mime_type: str | None) -> BookKind:
    """Which renderer Nickel uses for the book, from the book row's ``MimeType``."""
    return _KINDS.get((mime_type or "").strip().lower(), BookKind.OTHER)


def book_part(content_id: str) -> str:
    """The prefix of a kepub's chapter ContentIDs: the book id, without ``file://`` if sideloaded."""
    return content_id[len(FILE_SCHEME) :] if content_id.startswith(FILE_SCHEME) else content_id


def chapter_content_id(book_id: str, opf_dir: str, href: str) -> str:
    """``<bookpart>!<opfdir>!<href>``: the ContentID Nickel gives a kepub's spine item."""
    return CHAPTER_SEPARATOR.join((book_part(book_id), opf_dir, href))


def chapter_zip_path(book_id: str, chapter_id: str) -> str | None:
    """The zip-root path of a kepub chapter row, or None when the id is not ``…!opfdir!href``.

    The book part is stripped as a known prefix, so ``!`` inside a sideloaded file name is
    harmless; the OPF folder is joined to the href with ``/`` unless it is empty (OPF at the root).
    """
    return chapter_zip_path_after(chapter_prefix(book_id), chapter_id)


def chapter_prefix(book_id: str) -> str:
    """``<bookpart>!``: what a chapter ContentID of this book starts with (Nickel's own ones)."""
    return book_part(book_id) + CHAPTER_SEPARATOR


def chapter_zip_path_after(prefix: str, chapter_id: str) -> str | None:
    """``chapter_zip_path`` with the book's ``chapter_prefix`` computed once for all its chapters."""
    if chapter_id.startswith(prefix):
        rest = chapter_id[len(prefix) :]
        if CHAPTER_SEPARATOR not in rest:
            return None
        opf_dir, href = rest.split(CHAPTER_SEPARATOR, 1)
    else:
        pieces = chapter_id.rsplit(CHAPTER_SEPARATOR, 2)
        if len(pieces) != 3:
            return None
        _, opf_dir, href = pieces
    if not href:
        return None
    return f"{opf_dir}/{href}" if opf_dir else href
