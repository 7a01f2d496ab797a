"""In-memory annotation stores that pass the same contract tests as ``NickelBookmarks`` and
``SidecarAnnotations`` (tests/contract/test_annotation_stores.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from application.annotation_records import (
    KoboAnnotationChanges,
    KoboAnnotationRow,
    KOReaderAnnotationChanges,
    KOReaderAnnotationEdit,
    KOReaderAnnotationItem,
    KOReaderAnnotations,
    selector_of_span,
)
from application.errors import KoboDatabaseError, SidecarError

LEGACY_REFUSAL = "its highlights are still in KOReader's pre-2024 format"


class FakeKoboAnnotations:
    """``Bookmark`` rows per book, and the chapter rows they may name."""

    def __init__(self, chapters: dict[str, dict[str, str]] | None = None, *, colours: bool = False) -> None:
        self.rows: dict[str, list[KoboAnnotationRow]] = {}
        self.chapters = chapters or {}
        self.colours = colours
        self.writes = 0

    def annotations(self, book_id: str) -> list[KoboAnnotationRow]:
        return [row for row in self.rows.get(book_id, []) if not row.hidden]

    def chapter_ids(self, book_id: str) -> dict[str, str]:
        return dict(self.chapters.get(book_id, {}))

    def has_colours(self) -> bool:
        return self.colours

    def revisions(self) -> dict[str, str]:
        return {book_id: repr(rows) for book_id, rows in self.rows.items() if rows}

    def apply(self, book_id: str, changes: KoboAnnotationChanges) -> None:
        if changes.is_empty:
            return
        rows = list(self.rows.get(book_id, []))
        by_id = {row.bookmark_id: index for index, row in enumerate(rows)}
        missing = [
            key for key in (*changes.deleted, *(e.bookmark_id for e in changes.edited)) if key not in by_id
        ]
        if missing:
            raise KoboDatabaseError(f"Writing highlights of '{book_id}' would change 0 rows; nothing written")
        for edit in changes.edited:
            index = by_id[edit.bookmark_id]
            color = edit.color if self.colours and edit.color is not None else rows[index].color
            rows[index] = replace(
                rows[index], kind=edit.kind, note=edit.note, color=color, modified=edit.modified
            )
        rows = [row for row in rows if row.bookmark_id not in set(changes.deleted)]
        zip_paths = {content_id: zip_path for zip_path, content_id in self.chapters.get(book_id, {}).items()}
        for added in changes.added:
            rows.append(
                KoboAnnotationRow(
                    bookmark_id=added.bookmark_id,
                    book_id=book_id,
                    content_id=added.content_id,
                    zip_path=zip_paths.get(added.content_id),
                    start_path=selector_of_span(added.start_span),
                    start_offset=added.start_offset,
                    end_path=selector_of_span(added.end_span),
                    end_offset=added.end_offset,
                    kind=added.kind,
                    text=added.text,
                    note=added.note,
                    color=added.color if self.colours else None,
                    created=added.created.replace(microsecond=added.created.microsecond // 1000 * 1000),
                    modified=added.modified.replace(microsecond=0),
                )
            )
        self.rows[book_id] = rows
        self.writes += 1


class FakeKOReaderAnnotations:
    """Annotation arrays per book file; ``legacy`` books refuse writes as the real store does."""

    def __init__(self) -> None:
        self.items: dict[Path, list[KOReaderAnnotationItem]] = {}
        self.legacy: set[Path] = set()
        self.writes = 0

    def annotations(self, document: Path) -> KOReaderAnnotations:
        items = self.items.get(document)
        if items is None:
            return KOReaderAnnotations(document)
        return KOReaderAnnotations(
            document, document.with_suffix(".sdr"), tuple(items), document in self.legacy
        )

    def writable_reason(self, document: Path) -> str | None:
        return LEGACY_REFUSAL if document in self.legacy else None

    def apply(self, document: Path, changes: KOReaderAnnotationChanges) -> Path | None:
        if changes.is_empty:
            return None
        if document in self.legacy:
            raise SidecarError(f"{document.name}: {LEGACY_REFUSAL}")
        items = list(self.items.get(document, []))
        where = [(item.pos0, item.pos1) for item in items]
        wanted = [*changes.deleted, *((edit.pos0, edit.pos1) for edit in changes.edited)]
        if any(spot not in where for spot in wanted):
            raise SidecarError(f"{document.name}: annotations are no longer in the sidecar; nothing written")
        edits: dict[tuple[str | None, str | None], KOReaderAnnotationEdit] = {
            (edit.pos0, edit.pos1): edit for edit in changes.edited
        }
        kept = []
        for item in items:
            spot = (item.pos0, item.pos1)
            if spot in changes.deleted:
                continue
            edit = edits.get(spot)
            if edit is not None:
                color = edit.color if edit.color is not None else item.color
                item = replace(
                    item, note=edit.note or None, color=color, datetime_updated=edit.datetime_updated
                )
            kept.append(item)
        for added in changes.added:
            kept.append(
                KOReaderAnnotationItem(
                    index=0,
                    pos0=added.pos0,
                    pos1=added.pos1,
                    text=added.text,
                    note=added.note or None,
                    drawer=added.drawer,
                    color=added.color,
                    datetime=added.datetime,
                    datetime_updated=added.datetime_updated,
                    chapter=added.chapter,
                    page=added.pos0,
                )
            )
        self.items[document] = [replace(item, index=index) for index, item in enumerate(kept, start=1)]
        self.writes += 1
        return document.with_suffix(".sdr")
