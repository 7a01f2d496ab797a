"""Whether KOReader (and kksync) could read a book file, judged cheaply for a whole library.

Only the zip's central directory is read, never the chapters: enough to tell a usable EPUB from
a truncated download or an Adobe/Kobo DRM container, and fast on a USB-mounted device. The one
member read is ``META-INF/encryption.xml`` when a book has it, because most books that carry one
only obfuscate their embedded fonts, which KOReader undoes by itself.

Every state but "readable" comes with a one-line reason a person can act on, because "not
syncable" alone cannot tell a missing file from a DRM-protected one.
"""

from __future__ import annotations

import errno
import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from adapters.epub.archive import BookArchive
from adapters.epub.encryption import MAX_ENCRYPTION_XML_BYTES
from application.errors import BookContentError, EncryptedBook
from application.records import BookKind, FileState

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF"


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """A book file's state and, unless it is readable, why."""

    state: FileState
    reason: str | None = None


def file_state(path: Path, kind: BookKind, *, has_content_keys: bool = False) -> FileState:
    """The state of a book file; ``has_content_keys`` means Nickel holds store DRM keys for it."""
    return check_file(path, kind, has_content_keys=has_content_keys).state


def check_file(path: Path, kind: BookKind, *, has_content_keys: bool = False) -> FileVerdict:
    """The state of a book file with the reason when it cannot be synced."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return FileVerdict(FileState.MISSING, "book file missing")
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            return FileVerdict(FileState.MISSING, "its path is longer than the file system allows")
        return FileVerdict(FileState.MISSING, f"book file cannot be looked at ({error.strerror or error})")
    if stat.S_ISDIR(info.st_mode):
        return FileVerdict(FileState.MISSING, "book path is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        return FileVerdict(FileState.MISSING, "book path is not a regular file")
    if kind is BookKind.PDF:
        return _pdf_state(path)
    if kind in (BookKind.KEPUB, BookKind.EPUB):
        if has_content_keys:
            return FileVerdict(FileState.ENCRYPTED, "DRM-protected (Kobo store keys)")
        return _epub_state(path)
    return FileVerdict(FileState.READABLE)


def _pdf_state(path: Path) -> FileVerdict:
    try:
        with path.open("rb") as stream:
            head = stream.read(len(PDF_MAGIC))
    except OSError as error:
        logger.debug("cannot read %s: %s", path, error)
        return FileVerdict(FileState.UNREADABLE, f"book file cannot be read: {error.strerror or error}")
    if head == PDF_MAGIC:
        return FileVerdict(FileState.READABLE)
    return FileVerdict(FileState.UNREADABLE, "not a PDF file (no %PDF header)")


def _epub_state(path: Path) -> FileVerdict:
    """The book reader's own DRM check on the zip's directory and ``encryption.xml``.

    Using ``BookArchive.check_not_encrypted`` itself means the scan can never call readable a
    book the reader refuses, or the other way round.
    """
    try:
        with BookArchive(path, MAX_ENCRYPTION_XML_BYTES) as archive:
            archive.check_not_encrypted()
    except EncryptedBook as error:
        logger.debug("%s; taken as DRM", error)
        return FileVerdict(FileState.ENCRYPTED, "DRM-protected (encryption.xml)")
    except BookContentError as error:
        logger.debug("not a readable zip %s: %s", path, error)
        return FileVerdict(FileState.UNREADABLE, "not a zip file (damaged or not an EPUB)")
    return FileVerdict(FileState.READABLE)
