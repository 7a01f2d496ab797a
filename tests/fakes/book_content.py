"""In-memory ``BookContent``: books as spines with koboSpans at known character offsets.

Use-case tests use it instead of real EPUB files. It speaks the same xpointers the real
adapter writes for a flat chapter (``/body/DocFragment[N]/body/span[K]`` with an optional
``/text().C``), so the contract tests hold both to the same behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from application.errors import BookContentError, EncryptedBook
from application.records import CreDom, PointerChoice, SpineItem, XPointerTarget
from domain.chapter_map import Chapter, ChapterMap

POINTER = re.compile(
    r"^/body(?:\[1\])?/DocFragment(?:\[(?P<fragment>\d+)\])?(?P<rest>(?:/.*)?)$",
)
SPAN_STEP = re.compile(r"^/body(?:\[1\])?/span(?:\[(?P<span>\d+)\])?(?:/text\(\)(?:\[1\])?\.(?P<char>\d+))?$")
ADOBE_POINT = re.compile(r"^/1/4/(?P<element>\d+)(?:/\d+)*(?::\d+)?$")


@dataclass(frozen=True)
class FakeChapter:
    """A spine file: its zip path, size in bytes, text length and ``(span id, start offset)``s."""

    zip_path: str
    size: int
    text_length: int
    spans: Sequence[tuple[str, int]] = ()
    linear: bool = True


@dataclass
class FakeBookDocument:
    """A ``BookDocument`` over ``FakeChapter``s."""

    chapters: Sequence[FakeChapter]
    spine: Sequence[SpineItem] = field(init=False)

    def __post_init__(self) -> None:
        self.spine = tuple(
            SpineItem(c.zip_path, n, c.size, c.linear) for n, c in enumerate(self.chapters, start=1)
        )

    def chapter_map(self) -> ChapterMap:
        offsets = [sum(c.size for c in self.chapters[:i]) for i in range(len(self.chapters))]
        total = sum(c.size for c in self.chapters)
        return ChapterMap(
            [Chapter(c.zip_path, o, c.size) for c, o in zip(self.chapters, offsets, strict=True)], total
        )

    def has_spans(self) -> bool:
        return any(c.spans for c in self.chapters)

    def span_fraction(self, zip_path: str, span: str) -> float | None:
        chapter = self._chapter(zip_path)
        start = None if chapter is None else dict(chapter.spans).get(span)
        if chapter is None or start is None:
            return None
        return start / chapter.text_length if chapter.text_length else 0.0

    def span_at(self, zip_path: str, fraction: float) -> str | None:
        chapter = self._chapter(zip_path)
        if chapter is None or not chapter.spans:
            return None
        return _span_at_offset(chapter, min(max(fraction, 0.0), 1.0) * chapter.text_length)

    def span_xpointer(self, zip_path: str, span: str, dom: CreDom | None = None) -> str | None:
        pointer = self.span_pointer(zip_path, span, dom)
        return None if pointer is None else pointer.xpointer

    def span_pointer(self, zip_path: str, span: str, dom: CreDom | None = None) -> PointerChoice | None:
        """Flat chapters (``body`` holding only spans) have no wrappers: V1 and V2 paths agree."""
        chapter = self._chapter(zip_path)
        ids = [s for s, _ in chapter.spans] if chapter is not None else []
        if chapter is None or span not in ids:
            return None
        always = dom is not None and dom.always_indexed
        index = f"[{ids.index(span) + 1}]" if len(ids) > 1 or always else ""
        return PointerChoice(f"{self.chapter_xpointer(zip_path, dom)}/span{index}")

    def point_fraction(self, zip_path: str, point: str) -> float | None:
        """``/1/4/2k…``: the k-th span of the chapter (the fake's body holds only spans)."""
        chapter = self._chapter(zip_path)
        span = None if chapter is None else _span_of_point(chapter, point)
        return None if span is None else self.span_fraction(zip_path, span)

    def point_pointer(self, zip_path: str, point: str, dom: CreDom | None = None) -> PointerChoice | None:
        chapter = self._chapter(zip_path)
        span = None if chapter is None else _span_of_point(chapter, point)
        return None if span is None else self.span_pointer(zip_path, span, dom)

    def chapter_xpointer(self, zip_path: str, dom: CreDom | None = None) -> str | None:
        chapter = self._chapter(zip_path)
        if chapter is None:
            return None
        number = self.chapters.index(chapter) + 1
        if dom is not None and dom.always_indexed:
            return f"/body[1]/DocFragment[{number}]/body[1]"
        return f"/body/DocFragment{f'[{number}]' if len(self.chapters) > 1 else ''}/body"

    def locate(self, xpointer: str, dom: CreDom | None = None) -> XPointerTarget | None:
        match = POINTER.match(xpointer)
        if match is None:
            return None
        number = int(match.group("fragment") or 1)
        if not 1 <= number <= len(self.chapters):
            return None
        chapter = self.chapters[number - 1]
        offset = _offset(chapter, match.group("rest"))
        if offset is None:
            first = chapter.spans[0][0] if chapter.spans else None
            return XPointerTarget(number - 1, 0.0, first, resolved=False)
        fraction = offset / chapter.text_length if chapter.text_length else 0.0
        span = _span_at_offset(chapter, offset) if chapter.spans else None
        return XPointerTarget(number - 1, fraction, span, resolved=True)

    def _chapter(self, zip_path: str) -> FakeChapter | None:
        return next((c for c in self.chapters if c.zip_path == zip_path), None)


def _offset(chapter: FakeChapter, rest: str) -> int | None:
    if rest in ("", "/body"):
        return 0
    match = SPAN_STEP.match(rest)
    if match is None:
        return None
    index = int(match.group("span") or 1)
    if not 1 <= index <= len(chapter.spans):
        return None
    start = chapter.spans[index - 1][1]
    end = chapter.spans[index][1] if index < len(chapter.spans) else chapter.text_length
    return start + min(int(match.group("char") or 0), end - start)


def _span_of_point(chapter: FakeChapter, point: str) -> str | None:
    match = ADOBE_POINT.match(point)
    if match is None or int(match.group("element")) % 2:
        return None
    index = int(match.group("element")) // 2
    return chapter.spans[index - 1][0] if 1 <= index <= len(chapter.spans) else None


def _span_at_offset(chapter: FakeChapter, offset: float) -> str:
    chosen = chapter.spans[0][0]
    for span, start in chapter.spans:
        if start <= offset + 1e-6:
            chosen = span
    return chosen


class FakeBookContent:
    """``BookContent`` over registered books; counts loads so tests can check caching."""

    def __init__(self) -> None:
        self._books: dict[Path, FakeBookDocument] = {}
        self._encrypted: set[Path] = set()
        self.opened: list[Path] = []

    def add(self, path: Path, chapters: Sequence[FakeChapter]) -> FakeBookDocument:
        document = FakeBookDocument(chapters)
        self._books[path] = document
        return document

    def add_encrypted(self, path: Path) -> None:
        self._encrypted.add(path)

    def open(self, path: Path) -> FakeBookDocument:
        self.opened.append(path)
        if path in self._encrypted:
            raise EncryptedBook(f"{path.name}: the book is DRM-protected")
        document = self._books.get(path)
        if document is None:
            raise BookContentError(f"{path.name}: the book file does not exist ({path})")
        return document
