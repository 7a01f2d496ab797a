"""Reading each side into a domain ``ReadingPosition`` (sync-rules "Reading each side").

Both sides of one book are measured with one chapter map, so a Kobo span and a KOReader xpointer
become comparable fractions of the same book.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from application.errors import BookContentError
from application.ports import BookDocument
from application.records import EPUB_KINDS, BookKind, CreDom, FileState, KoboBook, KOReaderState
from domain.chapter_map import ChapterMap
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus, status_from_kobo, status_from_koreader

SYNCABLE_KINDS = (BookKind.KEPUB, BookKind.EPUB, BookKind.PDF)


@dataclass
class BookFile:
    """The book file, opened only when a position has to be converted (and then only once)."""

    book: KoboBook
    opener: Callable[[KoboBook], BookDocument]
    notes: list[str] = field(default_factory=list)
    dom: CreDom = field(default_factory=CreDom)
    """How KOReader builds this book's DOM (from its sidecar): how its pointers are read and written."""
    _document: BookDocument | None = None
    _tried: bool = False

    def document(self) -> BookDocument | None:
        if self.book.kind not in EPUB_KINDS or self.book.file_state is not FileState.READABLE:
            return None
        if not self._tried:
            self._tried = True
            try:
                self._document = self.opener(self.book)
            except BookContentError as error:
                self.notes.append(f"book file not readable, positions by percent only: {error}")
        return self._document

    def chapter_map(self) -> ChapterMap | None:
        """Nickel's own chapter rows when they measure the book, else the file's spine sizes.

        Rows whose offsets and sizes are all 0 measure nothing: read as a map, they would put the
        whole book into the last chapter.
        """
        if self.book.kind is BookKind.KEPUB and self.book.chapters_are_measured():
            return self.book.chapter_map()
        document = self.document()
        return document.chapter_map() if document is not None else None


def is_syncable(book: KoboBook) -> bool:
    """KOReader can open the file: it is there, unencrypted, and of a kind both readers share."""
    return book.kind in SYNCABLE_KINDS and book.file_state is FileState.READABLE


def unsyncable_reason(book: KoboBook) -> str | None:
    """Why a book cannot be synced, in a few words; None when it can."""
    if is_syncable(book):
        return None
    if book.kind not in SYNCABLE_KINDS:
        return book.file_problem or f"{book.kind.value} book: neither EPUB, kepub nor PDF"
    return book.file_problem or f"book file {book.file_state.value}"


def kobo_position(book: KoboBook, file: BookFile) -> ReadingPosition:
    """Nickel's position: chapter offset + share x fraction from the span, else the book percent."""
    status = status_from_kobo(book.read_status)
    percent = _clamp((book.percent_read or 0) / 100)
    if status is ReadingStatus.FINISHED:
        progress = percent if 0 < percent < 1 else 1.0  # ReadStatus 2 with 0 % means 100 %
        return ReadingPosition(progress, status, book.date_last_read)
    locator = _kobo_locator(book, file)
    if locator is None:
        return ReadingPosition(percent, status, book.date_last_read)
    if book.kind is BookKind.EPUB:
        return ReadingPosition(percent, status, book.date_last_read, locator)
    chapter_map = file.chapter_map()
    assert chapter_map is not None
    progress = chapter_map.progress_at(locator.spine_index, locator.fraction)
    return ReadingPosition(progress, status, book.date_last_read, locator)


def _kobo_locator(book: KoboBook, file: BookFile) -> Locator | None:
    zip_path, span = book.bookmark.zip_path, book.bookmark.span
    if book.kind is BookKind.EPUB and zip_path:
        return _adobe_locator(book, file, zip_path)
    if book.kind is not BookKind.KEPUB or not zip_path:
        return None
    chapter_map = file.chapter_map()
    index = chapter_map.index_of(zip_path) if chapter_map is not None else None
    if index is None:
        return None
    fraction = None
    document = file.document() if span else None
    if document is not None and span:
        fraction = document.span_fraction(zip_path, span)
        if fraction is None:
            file.notes.append(f"Kobo span {span} is not in {zip_path}; chapter progress used")
    if fraction is None:
        chapter = book.chapter(zip_path)
        fraction = _clamp((chapter.percent_read or 0) / 100) if chapter is not None else 0.0
    return Locator(index, zip_path, fraction, kobo_span=span)


def _adobe_locator(book: KoboBook, file: BookFile, zip_path: str) -> Locator | None:
    """A plain EPUB's bookmark: the chapter file Nickel names, and where its ``point(…)`` falls in it.

    The book's progress stays Nickel's own percent (Adobe counts pages, not bytes); the locator
    only says which chapter and where, for the report and for a pull.
    """
    chapter_map = file.chapter_map()
    index = chapter_map.index_of(zip_path) if chapter_map is not None else None
    document = file.document()
    if chapter_map is None or index is None:
        file.notes.append(f"Kobo chapter {zip_path} is not in the book's spine; positions by percent only")
        return None
    href = chapter_map.chapters[index].href
    fraction = None
    if document is not None and book.bookmark.point is not None:
        fraction = document.point_fraction(href, book.bookmark.point)
    if fraction is None:
        file.notes.append(f"Kobo point in {href} could not be read; the chapter start stands for it")
        fraction = 0.0
    return Locator(index, href, fraction)


def koreader_position(state: KOReaderState, file: BookFile) -> ReadingPosition | None:
    """KOReader's position: the xpointer through the chapter map, else its percent; None without one.

    A sidecar holding only annotations (kksync creates one for a book KOReader never opened) holds
    no progress: reading it as "reading, 0 %" would mark an unopened book as started in Nickel.
    """
    file.dom = state.dom
    if not state.holds_progress:
        return None
    status = status_from_koreader(state.status, has_sidecar=True)
    percent = next(
        (p for p in (state.percent_finished, state.last_percent) if p is not None and math.isfinite(p)),
        0.0,
    )
    locator = _koreader_locator(state, file)
    if locator is None:
        return ReadingPosition(_clamp(percent), status, state.updated_at)
    chapter_map = file.chapter_map()
    assert chapter_map is not None
    progress = chapter_map.progress_at(locator.spine_index, locator.fraction)
    return ReadingPosition(progress, status, state.updated_at, locator)


def _koreader_locator(state: KOReaderState, file: BookFile) -> Locator | None:
    if not state.last_xpointer:
        return None
    document = file.document()
    chapter_map = file.chapter_map()
    if document is None or chapter_map is None:
        return None
    target = document.locate(state.last_xpointer, file.dom)
    if target is None or not 0 <= target.spine_index < len(document.spine):
        file.notes.append(f"KOReader position {state.last_xpointer} is not in the book; percent used")
        return None
    if not target.resolved:
        file.notes.append(
            f"KOReader position {state.last_xpointer} not found in its chapter "
            f"(DOM {file.dom.version}); KOReader's percent used"
        )
        return None
    span = target.span
    if target.note:  # only an enclosing element is certain: its first span is no sentence of KOReader's
        file.notes.append(target.note)
        span = None
    zip_path = document.spine[target.spine_index].zip_path
    index = chapter_map.index_of(zip_path)
    if index is None:
        return None
    return Locator(index, zip_path, target.fraction, kobo_span=span, xpointer=state.last_xpointer)


def _clamp(value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return min(max(value, 0.0), 1.0)
