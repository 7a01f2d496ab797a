"""Reading entries of an EPUB's zip safely: bounded reads, friendly errors, DRM detection.

Book files come from anywhere (stores, servers, the person's own folders), so every read is
capped by the bytes actually inflated, not by the size the zip header claims: a zip bomb can
lie in its header, but it cannot lie to a counter of what came out of the decompressor.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from adapters.epub.encryption import (
    MAX_ENCRYPTION_XML_BYTES,
    encryption_member,
    encryption_problem,
    rights_problem,
)
from application.errors import BookContentError, EncryptedBook

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024

# Anything zipfile, zlib or the OS may raise on a damaged archive: ValueError covers a member
# name flagged as UTF-8 that is not (raised while the directory is read), EOFError a member
# whose data stops before its recorded size.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OSError,
)


class BookArchive:
    """An open EPUB zip whose entries are read with a per-entry byte cap.

    Use as a context manager so the file handle is released right after the read: a run over a
    5,000-book library must not keep thousands of handles open.
    """

    def __init__(self, path: Path, max_entry_bytes: int) -> None:
        self.path = path
        self.max_entry_bytes = max_entry_bytes
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise BookContentError(f"{path.name}: the book file does not exist ({path})") from None
        except ZIP_ERRORS as error:
            raise BookContentError(f"{path.name}: not a readable EPUB zip ({error})") from None
        self._infos = {info.filename: info for info in self._zip.infolist() if not info.is_dir()}
        self._folded = {name.casefold(): name for name in self._infos}

    def __enter__(self) -> BookArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def find(self, name: str) -> str | None:
        """The entry with this name, matched exactly first and then ignoring case.

        Books made on case-insensitive file systems often spell an href differently from the
        file; every reading system tolerates it, so this does too.
        """
        if name in self._infos:
            return name
        return self._folded.get(name.casefold())

    def size(self, name: str) -> int:
        """The uncompressed size the zip records for an entry (0 when there is no such entry)."""
        info = self._infos.get(name)
        return info.file_size if info is not None else 0

    def read(self, name: str) -> bytes:
        """The whole entry, refusing to inflate more than ``max_entry_bytes``."""
        return b"".join(self._chunks(name, self.max_entry_bytes))

    def read_head(self, name: str, limit: int) -> bytes:
        """At most the first ``limit`` bytes of an entry (for sniffing)."""
        head = bytearray()
        for chunk in self._chunks(name, None):
            head.extend(chunk)
            if len(head) >= limit:
                break
        return bytes(head[:limit])

    def _chunks(self, name: str, cap: int | None) -> Iterator[bytes]:
        info = self._infos.get(name)
        if info is None:
            raise BookContentError(f"{self.path.name}: the EPUB has no entry {name!r}")
        if cap is not None and info.file_size > cap:
            raise self._too_big(name, cap)
        total = 0
        with self._reading(name), self._zip.open(info) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                total += len(chunk)
                if cap is not None and total > cap:
                    raise self._too_big(name, cap)
                yield chunk

    @contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        try:
            yield
        except ZIP_ERRORS as error:
            raise BookContentError(
                f"{self.path.name}: cannot read {name!r} from the EPUB ({error})"
            ) from None

    def _too_big(self, name: str, cap: int) -> BookContentError:
        return BookContentError(f"{self.path.name}: entry {name!r} inflates past {cap} bytes, refusing it")

    def check_not_encrypted(self) -> None:
        """Raise ``EncryptedBook`` for Adobe/other DRM; font obfuscation alone is fine.

        The rule is ``adapters.epub.encryption``'s, the same the device scan applies, so a book
        is not called readable by one and encrypted by the other.
        """
        problem = rights_problem(self.names)
        encryption = encryption_member(self.names)
        if problem is None and encryption is not None:
            problem = self._encryption_xml_problem(encryption)
        if problem is not None:
            raise EncryptedBook(f"{self.path.name}: the book is DRM-protected ({problem})")
        if encryption is not None:
            log.debug("%s: encryption.xml only obfuscates fonts; reading it as a plain book", self.path.name)

    def _encryption_xml_problem(self, name: str) -> str | None:
        """The shared verdict on encryption.xml, read up to the smaller of the two caps.

        One too big or too damaged to read whole cannot be judged, so it counts as DRM (not as a
        damaged zip).
        """
        cap = min(self.max_entry_bytes, MAX_ENCRYPTION_XML_BYTES)
        try:
            data = self.read_head(name, cap + 1)
        except BookContentError as error:  # a damaged member hides what it encrypts
            return f"cannot read {name} ({error})"
        if len(data) > cap:
            return f"{name} is larger than {cap} bytes"
        return encryption_problem(data)
