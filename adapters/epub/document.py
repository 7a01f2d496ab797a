"""``EpubDocument``: one EPUB/kepub's spine, read at open, and its chapters, parsed on demand.

Only the spine (names, sizes) lives for the whole run; a chapter is parsed when a position in
it must be converted, and a ``ChapterCache`` shared by all documents keeps only the few most
recently parsed ones, so a library of thousands of books costs a few kilobytes per book.
"""

from __future__ import annotations

import itertools
import logging
import posixpath
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from adapters.epub.archive import BookArchive
from adapters.epub.chapter_text import ChapterText
from adapters.epub.cre_boxing import BoxingRules, ChapterBoxing, resolve_v1
from adapters.epub.css_cascade import ChapterStyles, chapter_sheets
from adapters.epub.markup import local_name, parse_body
from adapters.epub.package import resolve_href
from adapters.epub.xpointer import fragment_prefix, parse_xpointer
from application.errors import BookContentError
from application.records import CreDom, PointerChoice, SpineItem, XPointerTarget
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
        self._boxings: dict[tuple[int, int], dict[BoxingRules, ChapterBoxing]] = {}

    def get(self, owner: int, index: int) -> ChapterText | None:
        key = (owner, index)
        chapter = self._chapters.get(key)
        if chapter is not None:
            self._chapters.move_to_end(key)
        return chapter

    def put(self, owner: int, index: int, chapter: ChapterText) -> None:
        self._chapters[(owner, index)] = chapter
        self._boxings.pop((owner, index), None)
        while len(self._chapters) > self.size:
            key, _ = self._chapters.popitem(last=False)
            self._boxings.pop(key, None)

    def boxing(self, owner: int, index: int, rules: BoxingRules) -> ChapterBoxing | None:
        """A cached chapter's old-DOM wrappers; they live exactly as long as the chapter."""
        return self._boxings.get((owner, index), {}).get(rules)

    def put_boxing(self, owner: int, index: int, rules: BoxingRules, boxing: ChapterBoxing) -> None:
        if (owner, index) in self._chapters:
            self._boxings.setdefault((owner, index), {})[rules] = boxing

    def forget(self, owner: int) -> None:
        """Release an evicted document's chapters now rather than when they age out."""
        for key in [k for k in self._chapters if k[0] == owner]:
            del self._chapters[key]
            self._boxings.pop(key, None)


class NoFragment(Exception):
    """A spine item crengine gives no DocFragment at this DOM version (non-XHTML, below 20240114)."""

    def __init__(self, zip_path: str, version: int) -> None:
        super().__init__(f"{zip_path} has no DocFragment at DOM {version}")


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

    def span_xpointer(self, zip_path: str, span: str, dom: CreDom | None = None) -> str | None:
        pointer = self.span_pointer(zip_path, span, dom)
        return None if pointer is None else pointer.xpointer

    def span_pointer(self, zip_path: str, span: str, dom: CreDom | None = None) -> PointerChoice | None:
        """The span element's pointer as KOReader at this DOM writes it.

        For V1 pointers the span's wrappers must be known for certain; otherwise the nearest
        enclosing element whose V1 and V2 paths are the same is written, and ``approximate``
        says why.
        """
        dom = dom or CreDom()
        index = self.spine_index(zip_path)
        if index is None:
            return None
        element = self._chapter(index).span_element(span)
        if element is None:
            return None
        try:
            return self._element_pointer(index, element, dom, span)
        except NoFragment:
            return None

    def point_fraction(self, zip_path: str, point: str) -> float | None:
        """Fraction 0..1 inside the chapter of an Adobe ``point(…)``; None when it cannot be read."""
        index = self.spine_index(zip_path)
        if index is None:
            return None
        chapter = self._chapter(index)
        found = chapter.point_target(point)
        if found is None:
            return None
        return found[1] / chapter.total if chapter.total else 0.0

    def point_pointer(self, zip_path: str, point: str, dom: CreDom | None = None) -> PointerChoice | None:
        """The element at an Adobe ``point(…)`` as KOReader at this DOM writes it."""
        dom = dom or CreDom()
        index = self.spine_index(zip_path)
        if index is None:
            return None
        found = self._chapter(index).point_target(point)
        if found is None:
            return None
        element, _, complete = found
        try:
            choice = self._element_pointer(index, element, dom, f"point({point})")
        except NoFragment:
            return None
        if complete:
            return choice
        reason = (
            f"Adobe point({point}) leaves {zip_path} as kksync reads it; wrote the deepest element it reaches"
        )
        return PointerChoice(choice.xpointer, choice.approximate or reason)

    def _element_pointer(self, index: int, element: etree._Element, dom: CreDom, what: str) -> PointerChoice:
        chapter = self._chapter(index)
        if not dom.uses_v1_pointers:
            path = chapter.element_path(element, always_indexed=dom.always_indexed)
            return PointerChoice(f"{self._prefix(index, dom)}/{path}")
        boxing = self._boxing(index, dom)
        if element is chapter.body:
            return PointerChoice(f"{self._prefix(index, dom)}/body")
        if boxing.is_certain(element):
            return PointerChoice(f"{self._prefix(index, dom)}/body/" + "/".join(boxing.steps(element)))
        enclosing = next(
            e for e in element.iterancestors() if e is chapter.body or _same_in_v1(chapter, boxing, e)
        )
        path = "body" if enclosing is chapter.body else chapter.element_path(enclosing)
        reason = (
            f"old-DOM (V1) pointer to {what} depends on styles kksync cannot evaluate; "
            f"wrote its enclosing <{local_name(enclosing)}> instead"
        )
        return PointerChoice(f"{self._prefix(index, dom)}/{path}", approximate=reason)

    def chapter_xpointer(self, zip_path: str, dom: CreDom | None = None) -> str | None:
        dom = dom or CreDom()
        index = self.spine_index(zip_path)
        if index is None:
            return None
        try:
            return f"{self._prefix(index, dom)}/body" + ("[1]" if dom.always_indexed else "")
        except NoFragment:
            return None

    def locate(self, xpointer: str, dom: CreDom | None = None) -> XPointerTarget | None:
        dom = dom or CreDom()
        parsed = parse_xpointer(xpointer)
        index = None if parsed is None else self._fragments(dom).get(parsed.fragment)
        if parsed is None or index is None:
            return None  # no such fragment, or a placeholder with nothing to read
        chapter = self._chapter(index)
        note = None
        if dom.uses_v1_pointers:
            found = resolve_v1(self._boxing(index, dom), parsed.steps, parsed.point)
            offset = None if found is None else found[0]
            if found is not None and not found[1]:
                note = (
                    f"old-DOM (V1) pointer {xpointer} crosses elements whose wrappers depend on styles "
                    "kksync cannot evaluate; the start of the enclosing element stands for it"
                )
        else:
            offset = chapter.resolve(parsed.steps, parsed.point)
        if offset is None:
            log.info(
                "%s: xpointer %s not found in its chapter; using the chapter start", self.path.name, xpointer
            )
            return XPointerTarget(index, 0.0, chapter.span_at_offset(0), resolved=False)
        fraction = offset / chapter.total if chapter.total else 0.0
        return XPointerTarget(index, fraction, chapter.span_at_offset(offset), resolved=True, note=note)

    def spine_index(self, zip_path: str) -> int | None:
        """0-based spine index of a zip path, tolerating case and percent-encoding differences."""
        index = self._index.get(zip_path)
        if index is None:
            wanted = unquote(zip_path).casefold()
            index = next(
                (i for i, item in enumerate(self._spine) if item.zip_path.casefold() == wanted), None
            )
        return index

    def _prefix(self, index: int, dom: CreDom | None = None) -> str:
        dom = dom or CreDom()
        fragments = self._fragments(dom)
        number = self._spine[index].fragment_at(dom.version)
        if number is None:
            raise NoFragment(self._spine[index].zip_path, dom.version)
        count = self._fragment_count if fragments is self._by_fragment else len(fragments)
        return fragment_prefix(number, count, dom.always_indexed)

    def _fragments(self, dom: CreDom) -> dict[int, int]:
        """DocFragment number -> spine index, as crengine numbers them at this DOM version."""
        numbers = {item.fragment_at(dom.version): i for i, item in enumerate(self._spine)}
        if all(item.fragment_at(dom.version) == item.fragment_index for item in self._spine):
            return self._by_fragment
        return {number: i for number, i in numbers.items() if number is not None}

    def _boxing(self, index: int, dom: CreDom) -> ChapterBoxing:
        """The chapter's wrappers under this DOM, built once per parsed chapter and rules."""
        mode = dom.block_rendering_mode
        rules = BoxingRules(dom.version, None if mode is None else mode != 0)
        chapter = self._chapter(index)
        boxing = self._chapters.boxing(self.token, index, rules)
        if boxing is None or boxing.chapter is not chapter:
            base = posixpath.dirname(self._spine[index].zip_path)
            styles = ChapterStyles(
                chapter.body,
                chapter_sheets(chapter.body, lambda href: self._stylesheet(base, href)),
                old_defaults=dom.version < 20180528,
            )
            boxing = ChapterBoxing(chapter, styles, rules)
            self._chapters.put_boxing(self.token, index, rules, boxing)
        return boxing

    def _stylesheet(self, base: str, href: str) -> str | None:
        path = resolve_href(base, href)
        if path is None:
            return None
        with BookArchive(self.path, self._max_entry_bytes) as archive:
            name = archive.find(path)
            return None if name is None else archive.read(name).decode("utf-8", errors="replace")

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


def _same_in_v1(chapter: ChapterText, boxing: ChapterBoxing, element: etree._Element) -> bool:
    """Whether the element's V1 path is certain and equal to its V2 path (no wrapper, no shifted index)."""
    if not boxing.is_certain(element) or boxing.has_boxes_above(element):
        return False
    return "body/" + "/".join(boxing.steps(element)) == chapter.element_path(element)


def _clamp(fraction: float) -> float:
    return min(max(fraction, 0.0), 1.0) if fraction == fraction else 0.0
