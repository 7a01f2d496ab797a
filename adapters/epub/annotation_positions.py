"""Highlight positions: Nickel's (koboSpan, offset) and KOReader's xpointers ⇄ chapter characters.

Both sides are mapped to the side-neutral ``TextRange`` (spine item + code-point offsets into
the chapter text that ``ChapterText`` counts) and back:

- Nickel: ``span#kobo\\.X\\.Y`` + ``StartOffset`` = the span's first character + the offset; an
  end at a span boundary is written as the next span at 0, as Nickel does (fixture row
  ``…248.1`` / 0). Only positions inside a span are exact for Nickel; a point between spans
  moves to the next span only across whitespace.
- KOReader: ``pos0`` = the text node holding the first character, ``.N`` its offset; ``pos1`` =
  the text node holding the last character, ``.N`` just after it (crengine ranges end
  exclusively). Paths are crengine's normalized (V2) form, as ``ChapterText.element_path``.

``PlacedBook.text`` gives the characters of a range, so callers can check that a side's stored
text is really what lies there before anything is written (docs/annotations.md "Positions").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapters.epub.archive import BookArchive
from adapters.epub.chapter_text import XML_SPACE_RUN, ChapterText, Node, TextRun
from adapters.epub.content import EpubContent
from adapters.epub.document import EpubDocument
from adapters.epub.markup import parse_body
from adapters.epub.xpointer import index_suffix, parse_xpointer
from application.annotation_records import AnnotationNotPlaced, KOReaderPointers, PlacedKoboRange
from domain.annotation import TextPoint, TextRange

OBJECT_CHARACTER = "\ufffc"  # what an image counts as in the chapter text


@dataclass(frozen=True)
class _Run:
    """A visible text node: where it starts, its text, its parent and its ``text()[k]`` step."""

    start: int
    text: str
    parent: etree._Element
    step: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


class TextChapter(ChapterText):
    """A ``ChapterText`` that also keeps the counted text and where each text node lies."""

    def __init__(self, body: etree._Element) -> None:
        self._run_texts: dict[int, str] = {}
        super().__init__(body)
        self.runs = self._collect_runs()
        self._run_starts = [run.start for run in self.runs]
        characters = [OBJECT_CHARACTER] * self.total
        for run in self.runs:
            characters[run.start : run.end] = run.text
        self.text = "".join(characters)

    def _add_text(
        self,
        children: list[Node],
        text: str | None,
        parent: str,
        offset: int,
        preformatted: bool,
        hidden: bool,
    ) -> int:
        before = len(children)
        end = super()._add_text(children, text, parent, offset, preformatted, hidden)
        if len(children) > before and text is not None:
            counted = "" if hidden else (text if preformatted else XML_SPACE_RUN.sub(" ", text))
            self._run_texts[id(children[-1])] = counted
        return end

    def _collect_runs(self) -> list[_Run]:
        runs: list[_Run] = []
        for element, children in self._children.items():
            texts = [child for child in children if isinstance(child, TextRun)]
            for position, run in enumerate(texts, start=1):
                text = self._run_texts.get(id(run), "")
                if text:
                    step = "text()" + index_suffix(position, len(texts))
                    runs.append(_Run(run.start, text, element, step))
        runs.sort(key=lambda run: run.start)
        return runs

    # KOReader --------------------------------------------------------------------------------

    def pointer(self, offset: int, *, end: bool) -> str | None:
        """``body/…/text()[k].N`` for a character boundary; an end binds to the character before."""
        index = bisect.bisect_right(self._run_starts, offset - (1 if end else 0)) - 1
        if index < 0:
            return None
        run = self.runs[index]
        inside = run.start < offset <= run.end if end else run.start <= offset < run.end
        if not inside:
            return None
        return f"{self.element_path(run.parent)}/{run.step}.{offset - run.start}"

    # Nickel ----------------------------------------------------------------------------------

    def span_end(self, span: str) -> int | None:
        element = self._span_elements.get(span)
        return None if element is None else self._ends[element]

    def span_point(self, offset: int, *, end: bool) -> tuple[str, int] | None:
        """The span and offset in it for a character boundary, the way Nickel stores it."""
        for span, start in zip(self.spans, self.span_starts, strict=True):
            span_end = self.span_end(span)
            assert span_end is not None
            if start <= offset < span_end or (end and offset == span_end and offset > start):
                if end and offset == span_end:
                    following = self._span_starting_at(offset)
                    if following is not None:
                        return following, 0
                return span, offset - start
        following = next(
            (s for s, start in zip(self.spans, self.span_starts, strict=True) if start > offset), None
        )
        if following is not None:
            following_start = self.span_start(following)
            assert following_start is not None
            if not self.text[offset:following_start].strip():
                return following, 0
        return None

    def _span_starting_at(self, offset: int) -> str | None:
        index = bisect.bisect_left(self.span_starts, offset)
        if index < len(self.spans) and self.span_starts[index] == offset:
            return self.spans[index]
        return None


class PlacedBook:
    """One kepub's chapters as text, for placing highlights (the ``BookPlacer`` port)."""

    def __init__(self, document: EpubDocument, max_entry_bytes: int) -> None:
        self._document = document
        self._max_entry_bytes = max_entry_bytes
        self._chapters: dict[int, TextChapter] = {}

    @property
    def has_spans(self) -> bool:
        return self._document.has_spans()

    def chapter(self, index: int) -> TextChapter:
        chapter = self._chapters.get(index)
        if chapter is None:
            zip_path = self._document.spine[index].zip_path
            with BookArchive(self._document.path, self._max_entry_bytes) as archive:
                name = archive.find(zip_path)
                data = archive.read(name) if name is not None else b"<html><body/></html>"
            chapter = TextChapter(parse_body(data))
            self._chapters[index] = chapter
        return chapter

    def zip_path(self, spine_index: int) -> str:
        return self._document.spine[spine_index].zip_path

    def text(self, where: TextRange) -> str:
        """The characters of a range (within one chapter; across chapters, each chapter's part)."""
        if where.start.spine_index == where.end.spine_index:
            return self.chapter(where.start.spine_index).text[where.start.offset : where.end.offset]
        parts = [self.chapter(where.start.spine_index).text[where.start.offset :]]
        for index in range(where.start.spine_index + 1, where.end.spine_index):
            parts.append(self.chapter(index).text)
        parts.append(self.chapter(where.end.spine_index).text[: where.end.offset])
        return "".join(parts)

    # Nickel ----------------------------------------------------------------------------------

    def from_kobo(
        self, zip_path: str, start_span: str, start_offset: int, end_span: str, end_offset: int
    ) -> TextRange:
        index = self._spine_index(zip_path)
        chapter = self.chapter(index)
        start = self._kobo_offset(chapter, start_span, start_offset)
        end = self._kobo_offset(chapter, end_span, end_offset)
        if end < start:
            raise AnnotationNotPlaced(f"its end {end_span}:{end_offset} lies before its start")
        return TextRange(TextPoint(index, start), TextPoint(index, end))

    def to_kobo(self, where: TextRange) -> PlacedKoboRange:
        if where.start.spine_index != where.end.spine_index:
            raise AnnotationNotPlaced("it spans two chapters, which a Nickel highlight cannot")
        chapter = self.chapter(where.start.spine_index)
        start = chapter.span_point(where.start.offset, end=False)
        end = chapter.span_point(where.end.offset, end=True)
        if start is None or end is None:
            raise AnnotationNotPlaced("it starts or ends outside the book's koboSpans")
        progress = where.start.offset / chapter.total if chapter.total else 0.0
        return PlacedKoboRange(self.zip_path(where.start.spine_index), *start, *end, progress)

    def _kobo_offset(self, chapter: TextChapter, span: str, offset: int) -> int:
        start, end = chapter.span_start(span), chapter.span_end(span)
        if start is None or end is None:
            raise AnnotationNotPlaced(f"span {span} is not in its chapter")
        if not 0 <= offset <= end - start:
            raise AnnotationNotPlaced(f"offset {offset} lies outside span {span}")
        return start + offset

    # KOReader --------------------------------------------------------------------------------

    def from_koreader(self, pos0: str, pos1: str) -> TextRange:
        start, end = self._koreader_point(pos0), self._koreader_point(pos1)
        if end < start:
            raise AnnotationNotPlaced(f"pos1 {pos1} lies before pos0")
        return TextRange(start, end)

    def to_koreader(self, where: TextRange) -> KOReaderPointers:
        pos0 = self._pointer(where.start, end=False)
        pos1 = self._pointer(where.end, end=True)
        return KOReaderPointers(pos0, pos1)

    def _pointer(self, point: TextPoint, *, end: bool) -> str:
        path = self.chapter(point.spine_index).pointer(point.offset, end=end)
        prefix = self._document.chapter_xpointer(self.zip_path(point.spine_index))
        if path is None or prefix is None:
            raise AnnotationNotPlaced(f"no text node holds character {point.offset} of its chapter")
        return prefix.removesuffix("/body") + "/" + path

    def _koreader_point(self, xpointer: str) -> TextPoint:
        parsed = parse_xpointer(xpointer)
        if parsed is None:
            raise AnnotationNotPlaced(f"{xpointer} is not an EPUB xpointer")
        index = next(
            (i for i, item in enumerate(self._document.spine) if item.fragment_index == parsed.fragment), None
        )
        if index is None:
            raise AnnotationNotPlaced(f"{xpointer} names no chapter of the book")
        offset = self.chapter(index).resolve(parsed.steps, parsed.point)
        if offset is None:
            raise AnnotationNotPlaced(f"{xpointer} is not found in its chapter")
        return TextPoint(index, offset)

    def _spine_index(self, zip_path: str) -> int:
        index = self._document.spine_index(zip_path)
        if index is None:
            raise AnnotationNotPlaced(f"{zip_path} is not in the book's spine")
        return index


class EpubAnnotationPlacer:
    """The ``AnnotationPlacer`` port: opens books through the shared ``EpubContent``."""

    def __init__(self, content: EpubContent) -> None:
        self._content = content

    def open(self, path: Path) -> PlacedBook:
        return PlacedBook(self._content.open(path), self._content.max_entry_bytes)
