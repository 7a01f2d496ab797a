"""``EpubContent``: opens book files as ``EpubDocument``s, each file at most once per run.

Opening reads only the zip directory, ``container.xml`` and the OPF; chapters are parsed later
and only when a position in them must be converted. Documents (and failures) are kept in a
bounded LRU keyed by path, mtime and size, so a changed file is read afresh and a 5,000-book
library never holds more than ``cache_size`` documents. A run handles one book at a time (its
progress, then its highlights), so a few dozen cover every reuse; the daemon keeps the books
last closed without holding a library's worth of spines for the rest of the day.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from adapters.epub.archive import BookArchive
from adapters.epub.document import DEFAULT_PARSED_CHAPTERS, ChapterCache, EpubDocument
from adapters.epub.package import read_package
from application.errors import BookContentError, EncryptedBook
from application.records import SpineItem

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRY_BYTES = 32 * 1024 * 1024  # far above any real chapter, far below a zip bomb
DEFAULT_CACHE_SIZE = 64  # documents hold their spine and manifest: a few KB each
SNIFF_BYTES = 2048
MARKUP_SUFFIXES = (".xhtml", ".html", ".htm", ".xml")
CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}

CacheKey = tuple[str, int, int]


class EpubContent:
    """Implements the ``BookContent`` port with ``zipfile`` + lxml."""

    def __init__(
        self,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        cache_size: int = DEFAULT_CACHE_SIZE,
        parsed_chapters: int = DEFAULT_PARSED_CHAPTERS,
    ) -> None:
        if min(max_entry_bytes, cache_size, parsed_chapters) <= 0:
            raise ValueError("max_entry_bytes, cache_size and parsed_chapters must be positive")
        self.max_entry_bytes = max_entry_bytes
        self.cache_size = cache_size
        self._cache: OrderedDict[CacheKey, EpubDocument | BookContentError] = OrderedDict()
        self._chapters = ChapterCache(parsed_chapters)

    def open(self, path: Path) -> EpubDocument:
        """The book's document; raises ``EncryptedBook`` or ``BookContentError`` (cached too)."""
        key = self._key(path)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._load(path)
            self._cache[key] = cached
            while len(self._cache) > self.cache_size:
                _, evicted = self._cache.popitem(last=False)
                if isinstance(evicted, EpubDocument):
                    self._chapters.forget(evicted.token)
        else:
            self._cache.move_to_end(key)
        if isinstance(cached, BookContentError):
            raise type(cached)(str(cached))
        return cached

    def _key(self, path: Path) -> CacheKey:
        try:
            stat = path.stat()
        except OSError as error:
            raise BookContentError(f"{path.name}: cannot read the book file ({error.strerror})") from None
        return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)

    def _load(self, path: Path) -> EpubDocument | BookContentError:
        try:
            with BookArchive(path, self.max_entry_bytes) as archive:
                archive.check_not_encrypted()
                package = read_package(archive)
                _check_text_is_plain(archive, package.spine)
        except BookContentError as error:
            log.info("%s", error)
            return error
        log.debug("%s: %d spine items from %s", path.name, len(package.spine), package.opf_path)
        return EpubDocument(
            path, package.spine, self.max_entry_bytes, self._chapters, fragment_count=package.fragment_count
        )


def _check_text_is_plain(archive: BookArchive, spine: tuple[SpineItem, ...]) -> None:
    """Raise ``EncryptedBook`` when the first spine file is ciphertext, not markup.

    Kobo store kepubs keep their DRM keys in Nickel's database and carry no encryption.xml, so
    their chapters can only be recognised by content: encrypted bytes do not start with ``<``
    and are full of control characters.
    """
    for item in spine:
        name = archive.find(item.zip_path)
        if name is None or not name.lower().endswith(MARKUP_SUFFIXES):
            continue
        head = archive.read_head(name, SNIFF_BYTES)
        if head and not _looks_like_markup(head):
            raise EncryptedBook(
                f"{archive.path.name}: {name} is not readable text; the book looks DRM-protected"
            )
        return


def _looks_like_markup(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text is full of NULs by nature
        return True
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    controls = sum(1 for byte in head if byte in CONTROL_BYTES)
    return stripped.startswith(b"<") and controls * 20 < len(head)
