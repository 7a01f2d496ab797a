"""Turning a decided position into exactly what gets written (sync-rules "Writing")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports import BookDocument
from application.positions import BookFile
from application.records import BookKind, KoboWrite, KOReaderWrite, PointerChoice
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus, status_to_kobo, status_to_koreader

CHAPTER_START_SPAN = "kobo.1.1"


@dataclass(frozen=True)
class Planned:
    """A write and the lines that tell a person what it changes."""

    changes: tuple[str, ...]
    notes: tuple[str, ...] = ()


def push_write(position: ReadingPosition, file: BookFile, now: datetime) -> tuple[KoboWrite, Planned]:
    """KOReader -> Kobo: span at (or just before) the position, whole percent, status, reading time."""
    book = file.book
    notes: list[str] = []
    bookmark = chapter_id = chapter_percent = None
    if book.kind is BookKind.KEPUB:
        place = _place(position, file)
        if place is not None:
            zip_path, fraction, span = place
            if span is None:
                notes.append(f"no koboSpan known in {zip_path}: Nickel opens at the chapter start")
            bookmark = f"{zip_path}#{span or CHAPTER_START_SPAN}"
            chapter = book.chapter(zip_path)
            if chapter is not None:
                chapter_id, chapter_percent = chapter.content_id, round(fraction * 100)
        else:
            notes.append("position not inside any chapter: bookmark left as it is")
    else:
        notes.append(f"{book.kind.value} book: percent and status only, Nickel's bookmark left as it is")
    write = KoboWrite(
        percent_read=position.whole_percent,
        read_status=status_to_kobo(position.status),
        date_last_read=position.updated_at or now,
        bookmark=bookmark,
        chapter_content_id=chapter_id,
        chapter_percent_read=chapter_percent,
    )
    changes = [f"Kobo ___PercentRead = {write.percent_read}", f"Kobo ReadStatus = {write.read_status}"]
    if bookmark is not None:
        changes.append(f"Kobo ChapterIDBookmarked = {bookmark}")
    changes.append(f"Kobo DateLastRead = {write.date_last_read:%Y-%m-%dT%H:%M:%SZ}")
    return write, Planned(tuple(changes), tuple(notes))


def pull_write(position: ReadingPosition, file: BookFile, now: datetime) -> tuple[KOReaderWrite, Planned]:
    """Kobo -> KOReader: the span's element as ``last_xpointer`` (else the chapter start), percent, status."""
    notes: list[str] = []
    xpointer = _xpointer(position, file, notes)
    status = position.status
    if status is ReadingStatus.UNOPENED:
        status = ReadingStatus.READING
    progress = position.effective_progress
    write = KOReaderWrite(
        percent=progress,
        status=status_to_koreader(status),
        modified=(position.updated_at or now).date().isoformat(),
        last_xpointer=xpointer,
    )
    changes = [f"KOReader percent_finished = {progress:.4f}", f"KOReader summary.status = {write.status}"]
    if xpointer is not None:
        changes.append(f"KOReader last_xpointer = {xpointer}")
    return write, Planned(tuple(changes), tuple(notes))


def _place(position: ReadingPosition, file: BookFile) -> tuple[str, float, str | None] | None:
    """Chapter zip path, fraction inside it and the span at or before it, from a locator or the percent."""
    locator = position.locator or _locator_from_percent(position, file)
    if locator is None:
        return None
    span = locator.kobo_span
    document = file.document()
    if span is None and document is not None:
        span = document.span_at(locator.chapter_href, locator.fraction)
    return locator.chapter_href, locator.fraction, span


def _locator_from_percent(position: ReadingPosition, file: BookFile) -> Locator | None:
    chapter_map = file.chapter_map()
    point = chapter_map.locate(position.progress) if chapter_map is not None else None
    if chapter_map is None or point is None:
        return None
    return Locator(point.index, chapter_map.chapters[point.index].href, point.fraction)


def _xpointer(position: ReadingPosition, file: BookFile, notes: list[str]) -> str | None:
    if file.book.kind not in (BookKind.KEPUB, BookKind.EPUB):
        notes.append(f"{file.book.kind.value} book: percent and status only")
        return None
    document = file.document()
    place = _place(position, file)
    if document is None or place is None:
        notes.append("book file not readable: KOReader keeps its own position")
        return None
    zip_path, _, span = place
    choice = None
    if span is not None:
        choice = document.span_pointer(zip_path, span, file.dom)
        if choice is None:
            notes.append(f"Kobo span {span} not found in {zip_path}: chapter start written")
    elif file.book.kind is BookKind.EPUB:
        choice = _adobe_pointer(position, file, document, notes)
    if choice is not None:
        if choice.approximate:
            notes.append(choice.approximate)
        return choice.xpointer
    xpointer = document.chapter_xpointer(zip_path, file.dom)
    if xpointer is None:
        notes.append(
            f"{zip_path} has no DocFragment at KOReader's DOM {file.dom.version}: its position left alone"
        )
    return xpointer


def _adobe_pointer(
    position: ReadingPosition, file: BookFile, document: BookDocument, notes: list[str]
) -> PointerChoice | None:
    """The element at Nickel's ``point(…)`` when the position is Nickel's own bookmark."""
    bookmark = file.book.bookmark
    locator = position.locator
    if locator is None or bookmark.point is None:
        notes.append("plain EPUB without a Kobo chapter: chapter derived from the percent, start written")
        return None
    choice = document.point_pointer(locator.chapter_href, bookmark.point, file.dom)
    if choice is None:
        notes.append(
            f"Kobo point({bookmark.point}) not found in {locator.chapter_href}: chapter start written"
        )
    return choice
