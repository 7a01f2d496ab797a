"""Whether KOReader (and kksync) could read a book file, judged cheaply for a whole library.

Only the zip's central directory is read, never the chapters: enough to tell a usable EPUB from
a truncated download or an Adobe/Kobo DRM container, and fast on a USB-mounted device.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from application.records import BookKind, FileState

logger = logging.getLogger(__name__)

DRM_MARKERS = frozenset({"META-INF/encryption.xml", "META-INF/rights.xml"})
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
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        logger.debug("not a readable zip %s: %s", path, error)
        return FileState.UNREADABLE
    return FileState.ENCRYPTED if names & DRM_MARKERS else FileState.READABLE
