"""Whether KOReader (and kksync) could read a book file, judged cheaply for a whole library.

Only the zip's central directory is read, never the chapters: enough to tell a usable EPUB from
a truncated download or an Adobe/Kobo DRM container, and fast on a USB-mounted device. The one
member read is ``META-INF/encryption.xml`` when a book has it, because most books that carry one
only obfuscate their embedded fonts, which KOReader undoes by itself.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from adapters.epub.archive import ZIP_ERRORS
from adapters.epub.encryption import (
    MAX_ENCRYPTION_XML_BYTES,
    encryption_member,
    encryption_problem,
    rights_problem,
)
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
    try:
        with zipfile.ZipFile(path) as archive:
            return _drm_state(path, archive)
    except ZIP_ERRORS as error:
        logger.debug("not a readable zip %s: %s", path, error)
        return FileState.UNREADABLE


def _drm_state(path: Path, archive: zipfile.ZipFile) -> FileState:
    """ENCRYPTED for Adobe-style DRM or any encryption beyond font obfuscation.

    The rule is ``adapters.epub.encryption``'s, the same the book reader applies when it
    converts positions, so the scan never calls readable a book the reader refuses.
    """
    names = archive.namelist()
    problem = rights_problem(names)
    encryption = encryption_member(names)
    if problem is None and encryption is not None:
        problem = _encryption_xml_problem(archive, encryption)
    if problem is not None:
        logger.debug("%s: %s; taken as DRM", path, problem)
        return FileState.ENCRYPTED
    if encryption is not None:
        logger.debug("%s: encryption.xml only obfuscates fonts; readable", path)
    return FileState.READABLE


def _encryption_xml_problem(archive: zipfile.ZipFile, name: str) -> str | None:
    """The shared verdict on encryption.xml, or why the member itself cannot be judged.

    A member that cannot be read, or is too big to read whole, counts as DRM for the same reason
    a document that cannot be understood does: guessing "readable" risks nonsense positions.
    """
    try:
        data = _read_capped(archive, name, MAX_ENCRYPTION_XML_BYTES)
    except ZIP_ERRORS as error:
        return f"cannot read {name} ({error!r})"
    if data is None:
        return f"{name} is larger than {MAX_ENCRYPTION_XML_BYTES} bytes"
    return encryption_problem(data)


def _read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes | None:
    """The member's bytes, or None when it inflates past ``cap``.

    Counts what comes out of the decompressor: a zip header may lie about the size.
    """
    with archive.open(name) as stream:
        data = stream.read(cap + 1)
    return data if len(data) <= cap else None
