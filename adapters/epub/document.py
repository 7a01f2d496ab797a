"""``EpubDocument``: one EPUB/kepub's spine, read at open, and its chapters, parsed on demand.

Only the spine (names, sizes) lives for the whole run; a chapter is parsed when a position in
it must be converted, and a ``ChapterCache`` shared by all documents keeps only the few most
recently parsed ones, so a library of thousands of books costs a few kilobytes per book.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from adapters.epub.archive import BookArchive
from adapters.epub.chapter_text import ChapterText
from adapters.epub.markup import parse_body
from adapters.epub.xpointer import fragment_prefix, parse_xpointer
from application.errors import BookContentError
from application.records import SpineItem, XPointerTarget
from domain.chapter_map import Chapter, ChapterMap

log = logging.getLogger(__name__)

KOBO_SPAN_MARKUP = re.compile(rb"""id\s*=\s*["']kobo\.\d+\.\d+["']""")
DEFAULT_PARSED_CHAPTERS = 8
_TOKENS = itertools.count()


class ChapterCache:
    """The most recently parsed chapters of all open books, shared so memory has one bound.

    A parsed chapter (an lxml tree plus offsets) costs tens of times its file size in C
    memory that ``tracemalloc`` does not see; documents themselves only hold their spine.
    """

    def __init__(self, size: int = DEFAULT_PARSED_CHAPTERS) -> None:
        self.size = size
        self._chapters: OrderedDict[tuple[int, int], ChapterText] = OrderedDict()

    def get(self, owner: int, index: int) -> ChapterText | None:
        key = (owner, index)
        chapter = self._chapters.get(key)
        if chapter is not None:
            self._chapters.move_to_end(key)
        return chapter

    def put(self, owner: int, index: int, chapter: ChapterText) -> None:
        self._chapters[(owner, index)] = chapter
        while len(self._chapters) > self.size:
            self._chapters.popitem(last=False)

    def forget(self, owner: int) -> None:
        """Release an evicted document's chapters now rather than when they age out."""
        for key in [k for k in self._chapters if k[0] == owner]:
            del self._chapters[key]


class EpubDocument:
    """Implements the ``BookDocument`` port for one book file.

    Methods that need a chapter read it from the zip when first asked and may raise
    ``BookContentError`` (e.g. a chapter entry larger than the cap); positions in spine
    entries missing from the zip resolve as empty chapters, as crengine's placeholders do.
    """

    def __init__(
        self,
        path: Path,
        spine: Sequence[SpineItem],
        max_entry_bytes: int,
        chapters: ChapterCache | None = None,
        fragment_count: int | None = None,
    ) -> None:
        """``fragment_count``: crengine's DocFragments, when placeholders make it more than the spine."""
        self.path = path
        self._spine = tuple(spine)
        self._fragment_count = fragment_count if fragment_count is not None else len(self._spine)
        self._by_fragment = {item.fragment_index: i for i, item in enumerate(self._spine)}
        self._max_entry_bytes = max_entry_bytes
        self._index = {item.zip_path: i for i, item in enumerate(self._spine)}
        self._chapters = chapters if chapters is not None else ChapterCache()
        self.token = next(_TOKENS)  # names this document in the shared chapter cache
        self._has_spans: bool | None = None

    @property
    def spine(self) -> Sequence[SpineItem]:
        return self._spine

    def chapter_map(self) -> ChapterMap:
        """Each spine item's share is its uncompressed size over the whole spine's.

        Size is the one measure every book has without parsing all of it, it is what Kobo
        Utilities uses when it emulates Nickel's chapter rows, and Nickel's own
        ``___FileOffset``/``___FileSize`` percents are proportional to it (kobo.md §3), so the
        two sides' whole-book percents line up.
        """
        chapters = []
        running = 0.0
        for item in self._spine:
            chapters.append(Chapter(item.zip_path, running, float(item.size)))
            running += item.size
        return ChapterMap(chapters, running)

    def has_spans(self) -> bool:
        """Whether any spine file carries ``kobo.X.Y`` ids, found by scanning bytes, not parsing."""
        if self._has_spans is None:
            self._has_spans = self._scan_for_spans()
        return self._has_spans

    def span_fraction(self, zip_path: str, span: str) -> float | None:
        chapter = self._chapter_named(zip_path)
        return None if chapter is None else chapter.span_fraction(span)

    def span_at(self, zip_path: str, fraction: float) -> str | None:
        chapter = self._chapter_named(zip_path)
        if chapter is None:
            return None
        return chapter.span_at_offset(_clamp(fraction) * chapter.total)

    def span_xpointer(self, zip_path: str, span: str) -> str | None:
        index = self.spine_index(zip_path)
        if index is None:
            return None
        path = self._chapter(index).span_path(span)
        return None if path is None else f"{self._prefix(index)}/{path}"

    def chapter_xpointer(self, zip_path: str) -> str | None:
        index = self.spine_index(zip_path)
        return None if index is None else f"{self._prefix(index)}/body"

    def locate(self, xpointer: str) -> XPointerTarget | None:
        parsed = parse_xpointer(xpointer)
        index = None if parsed is None else self._by_fragment.get(parsed.fragment)
        if parsed is None or index is None:
            return None  # no such fragment, or a placeholder with nothing to read
        chapter = self._chapter(index)
        offset = chapter.resolve(parsed.steps, parsed.point)
        if offset is None:
            log.info(
                "%s: xpointer %s not found in its chapter; using the chapter start", self.path.name, xpointer
            )
            return XPointerTarget(index, 0.0, chapter.span_at_offset(0), resolved=False)
        fraction = offset / chapter.total if chapter.total else 0.0
        return XPointerTarget(index, fraction, chapter.span_at_offset(offset), resolved=True)

    def spine_index(self, zip_path: str) -> int | None:
        """0-based spine index of a zip path, tolerating case and percent-encoding differences."""
        index = self._index.get(zip_path)
        if index is None:
            wanted = unquote(zip_path).casefold()
            index = next(
                (i for i, item in enumerate(self._spine) if item.zip_path.casefold() == wanted), None
            )
        return index

    def _prefix(self, index: int) -> str:
        return fragment_prefix(self._spine[index].fragment_index, self._fragment_count)

    def _chapter_named(self, zip_path: str) -> ChapterText | None:
        index = self.spine_index(zip_path)
        return None if index is None else self._chapter(index)

    def _chapter(self, index: int) -> ChapterText:
        chapter = self._chapters.get(self.token, index)
        if chapter is None:
            zip_path = self._spine[index].zip_path
            data = self._read(zip_path)
            try:
                chapter = ChapterText(parse_body(data))
            except (ValueError, etree.LxmlError, RecursionError) as error:
                # binary garbage that libxml2's HTML recovery turned into names no XML can hold
                message = f"{self.path.name}: chapter {zip_path} is not readable XHTML ({error})"
                raise BookContentError(" ".join(message.split())) from None
            self._chapters.put(self.token, index, chapter)
        return chapter

    def _read(self, zip_path: str) -> bytes:
        with BookArchive(self.path, self._max_entry_bytes) as archive:
            name = archive.find(zip_path)
            if name is None:
                log.info(
                    "%s: spine file %s is not in the zip; treating it as empty", self.path.name, zip_path
                )
                return b"<html><body/></html>"
            return archive.read(name)

    def _scan_for_spans(self) -> bool:
        with BookArchive(self.path, self._max_entry_bytes) as archive:
            for item in self._spine:
                name = archive.find(item.zip_path)
                if name is not None and KOBO_SPAN_MARKUP.search(archive.read(name)):
                    return True
        return False


def _clamp(fraction: float) -> float:
    return min(max(fraction, 0.0), 1.0) if fraction == fraction else 0.0
