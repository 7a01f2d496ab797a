"""KOReader's annotations in real sidecar files: the pre-2024 tables read (never written), old-DOM
books refused, and an annotation write that keeps every other key and the header byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.koreader import SidecarLibrary
from adapters.koreader.annotations import SidecarAnnotations
from adapters.koreader.locations import KOReaderPaths, MetadataMode, locate
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from adapters.koreader.partial_md5 import partial_md5
from application.annotation_records import KOReaderAnnotationChanges, NewKOReaderAnnotation
from application.errors import SidecarError

OLD = "2023-05-01 10:00:00"
P0, P1 = "/body/DocFragment[3]/body/p[2]/text().0", "/body/DocFragment[3]/body/p[2]/text().20"
NEW = NewKOReaderAnnotation(
    P0, P1, "twenty characters ok", None, "yellow", "lighten", "2026-11-30 10:00:00", None
)


class Device:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "KOBOeReader"
        (self.root / ".adds" / "koreader").mkdir(parents=True)
        self.layout = DeviceLayout(self.root)
        self.book = self.root / "books" / "Book.kepub.epub"
        self.book.parent.mkdir()
        self.book.write_bytes(b"PK" * 3000)
        self.store = SidecarAnnotations(SidecarLibrary(self.layout))

    @property
    def sidecar(self) -> Path:
        paths = KOReaderPaths(self.layout, self.root / ".adds" / "koreader")
        return (
            locate(paths, self.book, partial_md5(self.book))
            .target(MetadataMode.DOC, doc_folder_writable=True)
            .path
        )

    def seed(self, table: LuaTable) -> bytes:
        self.sidecar.parent.mkdir(parents=True, exist_ok=True)
        content = render_settings_file(table, str(self.sidecar))
        self.sidecar.write_bytes(content)
        return content


@pytest.fixture
def device(tmp_path: Path) -> Device:
    return Device(tmp_path)


def test_pre_2024_highlights_and_their_notes_are_read(device: Device) -> None:
    device.seed(
        {
            "highlight": {
                12: {1: {"pos0": P0, "pos1": P1, "text": "twenty characters ok", "datetime": OLD,
                         "drawer": "underscore", "color": "red", "chapter": "Two"}},
            },
            "bookmarks": {
                1: {"page": P0, "pos0": P0, "pos1": P1, "notes": "twenty characters ok", "text": "my note",
                    "highlighted": True, "datetime": OLD},
                2: {"page": "/body/DocFragment[4]/body/p[1]", "notes": "in Three", "datetime": OLD},
            },
            "bookmarks_version": 20200615,
        }
    )  # fmt: skip
    found = device.store.annotations(device.book)
    assert found.legacy and found.sidecar == device.sidecar
    page, highlight = found.items
    assert (page.is_bookmark, page.page) == (True, "/body/DocFragment[4]/body/p[1]")
    assert (highlight.pos0, highlight.pos1, highlight.text, highlight.note) == (
        P0,
        P1,
        "twenty characters ok",
        "my note",
    )
    assert (highlight.drawer, highlight.color, highlight.chapter, highlight.legacy) == (
        "underscore",
        "red",
        "Two",
        True,
    )


def test_a_pre_2024_sidecar_is_never_written_and_stays_byte_identical(device: Device) -> None:
    content = device.seed(
        {"highlight": {1: {1: {"pos0": P0, "pos1": P1, "text": "x"}}}, "percent_finished": 0.5}
    )
    assert "pre-2024" in (device.store.writable_reason(device.book) or "")
    with pytest.raises(SidecarError, match="pre-2024"):
        device.store.apply(device.book, KOReaderAnnotationChanges(added=(NEW,)))
    assert device.sidecar.read_bytes() == content


def test_an_old_dom_book_is_not_written(device: Device) -> None:
    device.seed({"last_xpointer": "/body/DocFragment[3]/body/p[2]", "annotations": {}})
    assert "old DOM" in (device.store.writable_reason(device.book) or "")
    device.seed({"cre_dom_version": 20180528, "annotations": {}})
    assert "old DOM" in (device.store.writable_reason(device.book) or "")
    device.seed({"cre_dom_version": 20240114, "last_xpointer": "/body/DocFragment[3]/body/p[2]"})
    assert device.store.writable_reason(device.book) is None


def test_writing_annotations_changes_only_the_owned_keys(device: Device) -> None:
    old_entry: LuaTable = {
        "pos0": P1,
        "pos1": P1,
        "text": "old",
        "drawer": "lighten",
        "datetime": "d",
        "page": P1,
    }
    others: LuaTable = {
        "cre_dom_version": 20240114,
        "last_xpointer": "/body/DocFragment[3]/body/p[2]/text().4",
        "percent_finished": 0.059952038369305,
        "summary": {"status": "reading", "modified": "2026-02-19"},
        "stats": {"pages": 417, "title": "Book"},
        "annotations": {1: old_entry},
    }
    device.seed(others)
    device.store.apply(device.book, KOReaderAnnotationChanges(added=(NEW,)))
    expected = dict(others)
    expected["annotations"] = {
        1: old_entry,
        2: {"pos0": P0, "pos1": P1, "page": P0, "text": "twenty characters ok", "color": "yellow",
            "drawer": "lighten", "datetime": "2026-11-30 10:00:00"},
    }  # fmt: skip
    expected["annotations_externally_modified"] = True
    assert device.sidecar.read_bytes() == render_settings_file(expected, str(device.sidecar))
