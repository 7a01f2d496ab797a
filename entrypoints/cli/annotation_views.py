"""``kksync annotations``: a book's highlights and notes as text, JSON or Markdown ready to paste."""

from __future__ import annotations

import posixpath
from typing import Any

from application.annotation_records import UnplacedAnnotation
from application.annotations import BookAnnotations, ListedAnnotation
from domain.annotation import Annotation, AnnotationKind
from entrypoints.presenters import iso

SIDE_NAMES = {"kobo": "Kobo", "koreader": "KOReader"}


def annotations_json(listing: BookAnnotations) -> dict[str, Any]:
    book = listing.book
    return {
        "book_id": book.book_id,
        "title": book.title,
        "author": book.author,
        "annotations": [_listed_json(listed) for listed in listing.annotations],
        "unplaced": [_unplaced_json(unplaced) for unplaced in listing.unplaced],
        "notes": list(listing.notes),
    }


def _listed_json(listed: ListedAnnotation) -> dict[str, Any]:
    shown = listed.annotation
    where = shown.range
    return {
        "kind": shown.kind.value,
        "chapter": listed.chapter,
        "text": shown.text,
        "note": shown.note,
        "color": shown.color,
        "created": iso(shown.created),
        "modified": iso(shown.modified),
        "sides": list(listed.sides),
        "notes_by_side": _notes_by_side(listed),
        "start": {"spine_index": where.start.spine_index, "offset": where.start.offset},
        "end": {"spine_index": where.end.spine_index, "offset": where.end.offset},
    }


def _notes_by_side(listed: ListedAnnotation) -> dict[str, str | None]:
    return {side: held.note for side, held in (("kobo", listed.kobo), ("koreader", listed.koreader)) if held}


def _unplaced_json(unplaced: UnplacedAnnotation) -> dict[str, Any]:
    return {"side": unplaced.side, "text": unplaced.text, "reason": unplaced.reason, "where": unplaced.where}


def annotations_markdown(listing: BookAnnotations) -> str:
    """Headings per chapter, each highlight a quote, each note a paragraph under it."""
    book = listing.book
    lines = [f"# {book.title or book.book_id}"]
    if book.author:
        lines += ["", f"*{book.author}*"]
    chapter = None
    for listed in listing.annotations:
        if listed.chapter != chapter:
            chapter = listed.chapter
            lines += ["", f"## {_chapter_name(chapter)}"]
        lines += ["", *_markdown_entry(listed)]
    if listing.unplaced:
        lines += ["", "## Not placed exactly"]
        for unplaced in listing.unplaced:
            lines += ["", *_quote(unplaced.text), "", f"({SIDE_NAMES[unplaced.side]}: {unplaced.reason})"]
    return "\n".join(lines) + "\n"


def _markdown_entry(listed: ListedAnnotation) -> list[str]:
    shown = listed.annotation
    if shown.kind is AnnotationKind.BOOKMARK:
        return [f"- Bookmark ({', '.join(SIDE_NAMES[s] for s in listed.sides)})"]
    lines = _quote(shown.text)
    for note in dict.fromkeys(n for n in _notes_by_side(listed).values() if n):
        lines += ["", note]
    return lines


def _quote(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [f"> {flat}"] if flat else [">"]


def _chapter_name(zip_path: str) -> str:
    return posixpath.basename(zip_path) or "Book"


def annotations_text(listing: BookAnnotations) -> list[str]:
    """Plain lines for the terminal: one per annotation, sides and note shown."""
    book = listing.book
    lines = [f"{book.title or book.book_id} — {len(listing.annotations)} annotations"]
    for listed in listing.annotations:
        lines.append(
            f"  [{'+'.join(SIDE_NAMES[s] for s in listed.sides)}] {_chapter_name(listed.chapter)}: "
            f"{_short(listed.annotation)}"
        )
        for side, note in _notes_by_side(listed).items():
            if note:
                lines.append(f"      note ({SIDE_NAMES[side]}): {' '.join(note.split())}")
    for unplaced in listing.unplaced:
        lines.append(
            f"  [{SIDE_NAMES[unplaced.side]}, not placed] {' '.join(unplaced.text.split())[:70]}: "
            f"{unplaced.reason}"
        )
    lines.extend(f"  note: {note}" for note in listing.notes)
    return lines


def _short(annotation: Annotation) -> str:
    if annotation.kind is AnnotationKind.BOOKMARK:
        return "(bookmark)"
    flat = " ".join(annotation.text.split())
    return f'"{flat[:70]}…"' if len(flat) > 70 else f'"{flat}"'
