"""Whether KOReader (and kksync) could read a book file, judged cheaply for a whole library.

Only the zip's central directory is read, never the chapters: enough to tell a usable EPUB from
a truncated download or an Adobe/Kobo DRM container, and fast on a USB-mounted device. The one
member read is ``META-INF/encryption.xml`` when a book has it, because most books that carry one
only obfuscate their embedded fonts, which KOReader undoes by itself.
"""

from __future__ import annotations

import logging
from pathlib import Path

from adapters.epub.archive import BookArchive
from adapters.epub.encryption import MAX_ENCRYPTION_XML_BYTES
from application.errors import BookContentError, EncryptedBook
from application.records import BookKind, FileState

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF"


def file_state(path: Path, kind: BookKind, *, has_content_keys: bool = False) -> FileState:
    """The state of a book file; ``has_content_keys`` means Nickel holds store DRM keys for it."""
    if not path.is_file():
        return FileState.MISSING
    if kind is BookKind.PDF:
        return _pdf_state(path)
    if kind in (BookKind.KEPUB, BookKind.EPUB):
        return FileState.ENCRYPTED if has_content_keys else _epub_state(path)
    return FileState.READABLE


def _pdf_state(path: Path) -> FileState:
    try:
        with path.open("rb") as stream:
            head = stream.read(len(PDF_MAGIC))
    except OSError as error:
        logger.debug("cannot read %s: %s", path, error)
        return FileState.UNREADABLE
    return FileState.READABLE if head == PDF_MAGIC else FileState.UNREADABLE


def _epub_state(path: Path) -> FileState:
    """The book reader's own DRM check on the zip's directory and ``encryption.xml``.

    Using ``BookArchive.check_not_encrypted`` itself means the scan can never call readable a
    book the reader refuses, or the other way round.
    """
    try:
        with BookArchive(path, MAX_ENCRYPTION_XML_BYTES) as archive:
            archive.check_not_encrypted()
    except EncryptedBook as error:
        logger.debug("%s; taken as DRM", error)
        return FileState.ENCRYPTED
    except BookContentError as error:
        logger.debug("not a readable zip %s: %s", path, error)
        return FileState.UNREADABLE
    return FileState.READABLE
