"""``SidecarAnnotations``: a book's highlights and notes in KOReader's sidecar (koreader.md §4.4).

Reads the ``annotations`` array, or for sidecars KOReader has not converted yet the pre-2024
``highlight``/``bookmarks`` tables. Those are read only: KOReader converts them itself on the next
open unless an ``annotations`` key already exists, so writing one would make it skip the
conversion and lose them. Writes go through ``SidecarLibrary.rewrite``: only the ``annotations``
array and ``annotations_externally_modified = true`` change (KOReader then recomputes page
numbers and re-sorts), every other key keeps its bytes.
"""

from __future__ import annotations

from pathlib import Path

from adapters.koreader.library import SidecarLibrary
from adapters.koreader.lua_values import LuaTable, LuaValue
from application.annotation_records import (
    KOReaderAnnotationChanges,
    KOReaderAnnotationItem,
    KOReaderAnnotations,
    NewKOReaderAnnotation,
)
from application.errors import SidecarError
from application.records import COMPATIBLE_DOM_VERSION

EXTERNALLY_MODIFIED = "annotations_externally_modified"
LEGACY_KEYS = ("highlight", "bookmarks")
NORMALIZED_XPOINTER_DOM = 20200223  # below this, xpointers are crengine's V1 form


class SidecarAnnotations:
    """The ``KOReaderAnnotationStore`` port over real sidecars."""

    def __init__(self, library: SidecarLibrary) -> None:
        self._library = library

    def annotations(self, document: Path) -> KOReaderAnnotations:
        loaded = self._library.load(document)
        if loaded is None:
            return KOReaderAnnotations(document)
        table = loaded.table
        array = table.get("annotations")
        if isinstance(array, dict):
            return KOReaderAnnotations(document, loaded.path, tuple(_items(array)))
        if any(isinstance(table.get(key), dict) for key in LEGACY_KEYS):
            return KOReaderAnnotations(document, loaded.path, tuple(_legacy_items(table)), legacy=True)
        return KOReaderAnnotations(document, loaded.path)

    def writable_reason(self, document: Path) -> str | None:
        """Why annotations cannot be written into this book's sidecar, or None when they can."""
        loaded = self._library.load(document)
        if loaded is None:
            return None
        return _refusal(loaded.table)

    def apply(self, document: Path, changes: KOReaderAnnotationChanges) -> Path | None:
        """Write one book's annotation changes; None when there was nothing to write."""
        if changes.is_empty:
            return None

        def edit(table: LuaTable, creating: bool, doc_path: str) -> None:
            refusal = _refusal(table)
            if refusal is not None:
                raise SidecarError(f"{document.name}: {refusal}")
            apply_annotation_changes(table, changes)
            if creating:
                table["cre_dom_version"] = COMPATIBLE_DOM_VERSION
                table["doc_path"] = doc_path

        return self._library.rewrite(document, edit)


def _refusal(table: LuaTable) -> str | None:
    if not isinstance(table.get("annotations"), dict) and any(
        isinstance(table.get(key), dict) for key in LEGACY_KEYS
    ):
        return (
            "its highlights are still in KOReader's pre-2024 format; open the book once in KOReader "
            "(2024.07 or newer) to convert them, then sync again"
        )
    version = table.get("cre_dom_version")
    numeric = isinstance(version, int | float) and not isinstance(version, bool)
    old_dom = numeric and float(version) < NORMALIZED_XPOINTER_DOM  # type: ignore[arg-type]
    if old_dom or ("last_xpointer" in table and version is None):
        return "KOReader reads this book with an old DOM (V1 xpointers); highlights are not written into it"
    return None


def apply_annotation_changes(table: LuaTable, changes: KOReaderAnnotationChanges) -> None:
    """Change the ``annotations`` array in place and flag it for KOReader to re-sort."""
    array = table.get("annotations")
    entries: list[LuaValue] = (
        [array[key] for key in sorted(k for k in array if isinstance(k, int))]
        if isinstance(array, dict)
        else []
    )
    deleted = set(changes.deleted)
    edits = {(edit.pos0, edit.pos1): edit for edit in changes.edited}
    kept: list[LuaValue] = []
    for entry in entries:
        where = _where(entry)
        if where in deleted:
            deleted.discard(where)
            continue
        if where in edits and isinstance(entry, dict):
            edit = edits.pop(where)
            _set_or_drop(entry, "note", edit.note)
            if edit.color is not None:
                entry["color"] = edit.color
            entry["datetime_updated"] = edit.datetime_updated
        kept.append(entry)
    if deleted or edits:
        missing = sorted(deleted | set(edits))
        raise SidecarError(f"annotations at {missing[0][0]} are no longer in the sidecar; nothing written")
    kept.extend(_new_entry(added) for added in changes.added)
    table["annotations"] = {index: entry for index, entry in enumerate(kept, start=1)}
    table[EXTERNALLY_MODIFIED] = True


def _where(entry: LuaValue) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    pos0, pos1 = entry.get("pos0"), entry.get("pos1")
    return (pos0, pos1) if isinstance(pos0, str) and isinstance(pos1, str) else None


def _set_or_drop(entry: LuaTable, key: str, value: str | None) -> None:
    if value:
        entry[key] = value
    else:
        entry.pop(key, None)


def _new_entry(added: NewKOReaderAnnotation) -> LuaTable:
    entry: LuaTable = {
        "color": added.color,
        "datetime": added.datetime,
        "drawer": added.drawer,
        "page": added.pos0,
        "pos0": added.pos0,
        "pos1": added.pos1,
        "text": added.text,
    }
    if added.datetime_updated:
        entry["datetime_updated"] = added.datetime_updated
    if added.note:
        entry["note"] = added.note
    if added.chapter:
        entry["chapter"] = added.chapter
    return entry


def _text(value: LuaValue | None) -> str | None:
    return value if isinstance(value, str) else None


def _items(array: LuaTable) -> list[KOReaderAnnotationItem]:
    items = []
    for index in sorted(key for key in array if isinstance(key, int)):
        entry = array[index]
        if not isinstance(entry, dict):
            continue
        page = entry.get("page")
        items.append(
            KOReaderAnnotationItem(
                index=index,
                pos0=_text(entry.get("pos0")),
                pos1=_text(entry.get("pos1")),
                text=_text(entry.get("text")) or "",
                note=_text(entry.get("note")) or None,
                drawer=_text(entry.get("drawer")),
                color=_text(entry.get("color")),
                datetime=_text(entry.get("datetime")),
                datetime_updated=_text(entry.get("datetime_updated")),
                chapter=_text(entry.get("chapter")),
                page=page if isinstance(page, str | int) and not isinstance(page, bool) else None,
            )
        )
    return items


def _legacy_items(table: LuaTable) -> list[KOReaderAnnotationItem]:
    """Pre-2024 ``highlight`` (by page) and ``bookmarks``; notes swap ``text``/``notes`` there."""
    notes: dict[tuple[str | None, str | None], str] = {}
    items: list[KOReaderAnnotationItem] = []
    bookmarks = table.get("bookmarks")
    for entry in _entries(bookmarks):
        pos0, pos1 = _text(entry.get("pos0")), _text(entry.get("pos1"))
        highlighted_text, user_note = _text(entry.get("notes")), _text(entry.get("text"))
        if entry.get("highlighted"):
            if user_note and user_note != highlighted_text:
                notes[(pos0, pos1)] = user_note
            continue
        page = _text(entry.get("page"))
        items.append(_legacy(page, page, "", user_note, None, None, entry))
    for entry in _entries(table.get("highlight")):
        pos0, pos1 = _text(entry.get("pos0")), _text(entry.get("pos1"))
        drawer = _text(entry.get("drawer")) or "lighten"
        text = _text(entry.get("text")) or ""
        items.append(
            _legacy(pos0, pos1, text, notes.get((pos0, pos1)), drawer, _text(entry.get("color")), entry)
        )
    return items


def _legacy(
    pos0: str | None,
    pos1: str | None,
    text: str,
    note: str | None,
    drawer: str | None,
    color: str | None,
    entry: LuaTable,
) -> KOReaderAnnotationItem:
    return KOReaderAnnotationItem(
        index=0,
        pos0=pos0,
        pos1=pos1,
        text=text,
        note=note,
        drawer=drawer,
        color=color,
        datetime=_text(entry.get("datetime")),
        chapter=_text(entry.get("chapter")),
        page=pos0,
        legacy=True,
    )


def _entries(value: LuaValue | None) -> list[LuaTable]:
    """Every table inside ``value``, one level down or two (``highlight`` is grouped by page)."""
    found: list[LuaTable] = []
    if not isinstance(value, dict):
        return found
    for key in sorted(value, key=_sort_key):
        child = value[key]
        if not isinstance(child, dict):
            continue
        if "pos0" in child or "page" in child or "datetime" in child:
            found.append(child)
        else:
            found.extend(_entries(child))
    return found


def _sort_key(key: object) -> tuple[int, float, str]:
    if isinstance(key, int | float) and not isinstance(key, bool):
        return (0, float(key), "")
    return (1, 0.0, str(key))


__all__ = ["SidecarAnnotations", "apply_annotation_changes"]
