"""The annotation store contracts, run against ``NickelBookmarks`` (a copy of the real fw 4.38
database) / ``SidecarAnnotations`` (a temporary Kobo) and against the in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.kobo.bookmarks import NickelBookmarks
from adapters.koreader import SidecarLibrary
from adapters.koreader.annotations import SidecarAnnotations
from adapters.koreader.locations import KOReaderPaths, MetadataMode, locate
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from adapters.koreader.partial_md5 import partial_md5
from application.annotation_records import (
    KoboAnnotationChanges,
    KoboAnnotationEdit,
    KOReaderAnnotationChanges,
    KOReaderAnnotationEdit,
    NewKoboAnnotation,
    NewKOReaderAnnotation,
)
from application.errors import KoboDatabaseError, SidecarError
from application.ports import KoboAnnotationStore
from tests.e2e.cli.real_fixture import ART_OF_WAR
from tests.fakes.annotations import FakeKoboAnnotations, FakeKOReaderAnnotations
from tests.support.nickel import device_with_real_fixture

BOOK = ART_OF_WAR.book_id
CHAPTER = "/mnt/onboard/Sun Tzu/Art of War, The - Sun Tzu.kepub.epub!!epub/text/translators-intro-1.xhtml"
MADE = datetime(2026, 11, 30, 20, 15, 42, 123456, tzinfo=UTC)
NEW_ROW = NewKoboAnnotation(
    bookmark_id="0b4a9f3e-5d1c-4c57-9a43-5f2a7b0e9d11",
    content_id=CHAPTER,
    start_span="kobo.300.2",
    start_offset=4,
    end_span="kobo.301.1",
    end_offset=0,
    kind="note",
    text="the art of war is of vital importance",
    note="from KOReader",
    color=2,
    chapter_progress=0.5,
    created=MADE,
    modified=MADE,
)


@pytest.fixture(params=["sqlite", "fake"])
def kobo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KoboAnnotationStore]:
    if request.param == "fake":
        yield FakeKoboAnnotations({BOOK: {ART_OF_WAR.zip_path: CHAPTER}})
        return
    store = NickelBookmarks(device_with_real_fixture(tmp_path).database)
    yield store
    store.close()


def test_a_book_without_rows_has_no_annotations(kobo: KoboAnnotationStore) -> None:
    assert kobo.annotations("file:///mnt/onboard/nobody.kepub.epub") == []


def test_the_chapter_row_nickel_draws_on_is_found_by_its_spine_file(kobo: KoboAnnotationStore) -> None:
    assert kobo.chapter_ids(BOOK)[ART_OF_WAR.zip_path] == CHAPTER


def test_an_added_row_reads_back_with_its_spans_text_note_and_times(kobo: KoboAnnotationStore) -> None:
    before = kobo.annotations(BOOK)
    kobo.apply(BOOK, KoboAnnotationChanges(added=(NEW_ROW,)))
    after = kobo.annotations(BOOK)
    assert len(after) == len(before) + 1
    row = next(row for row in after if row.bookmark_id == NEW_ROW.bookmark_id)
    assert (row.start_path, row.start_offset, row.end_path, row.end_offset) == (
        "span#kobo\\.300\\.2",
        4,
        "span#kobo\\.301\\.1",
        0,
    )
    assert (row.start_span, row.end_span) == ("kobo.300.2", "kobo.301.1")
    assert (row.kind, row.text, row.note, row.content_id) == ("note", NEW_ROW.text, "from KOReader", CHAPTER)
    assert row.zip_path == ART_OF_WAR.zip_path
    assert row.created == MADE.replace(microsecond=123000)
    assert row.modified == MADE.replace(microsecond=0)
    assert row.color is None  # fw 4.38 has no Color column: the colour is not stored


def test_an_edit_changes_note_and_kind_and_a_delete_removes_the_row(kobo: KoboAnnotationStore) -> None:
    kobo.apply(BOOK, KoboAnnotationChanges(added=(NEW_ROW,)))
    edit = KoboAnnotationEdit(NEW_ROW.bookmark_id, "highlight", None, None, MADE)
    kobo.apply(BOOK, KoboAnnotationChanges(edited=(edit,)))
    row = next(row for row in kobo.annotations(BOOK) if row.bookmark_id == NEW_ROW.bookmark_id)
    assert (row.kind, row.note) == ("highlight", None)
    count = len(kobo.annotations(BOOK))
    kobo.apply(BOOK, KoboAnnotationChanges(deleted=(NEW_ROW.bookmark_id,)))
    assert len(kobo.annotations(BOOK)) == count - 1
    assert all(row.bookmark_id != NEW_ROW.bookmark_id for row in kobo.annotations(BOOK))


def test_the_revision_of_a_book_changes_with_every_write_and_only_that_books(
    kobo: KoboAnnotationStore,
) -> None:
    before = kobo.revisions()
    kobo.apply(BOOK, KoboAnnotationChanges(added=(NEW_ROW,)))
    added = kobo.revisions()
    assert added[BOOK] != before.get(BOOK)
    assert {k: v for k, v in added.items() if k != BOOK} == {k: v for k, v in before.items() if k != BOOK}
    edit = KoboAnnotationEdit(NEW_ROW.bookmark_id, "note", "a longer note than before", None, MADE)
    kobo.apply(BOOK, KoboAnnotationChanges(edited=(edit,)))
    assert kobo.revisions()[BOOK] != added[BOOK]
    kobo.apply(BOOK, KoboAnnotationChanges(deleted=(NEW_ROW.bookmark_id,)))
    assert kobo.revisions().get(BOOK) == before.get(BOOK)


def test_a_change_to_a_missing_row_writes_nothing_at_all(kobo: KoboAnnotationStore) -> None:
    before = kobo.annotations(BOOK)
    with pytest.raises(KoboDatabaseError, match="nothing written"):
        kobo.apply(BOOK, KoboAnnotationChanges(added=(NEW_ROW,), deleted=("no-such-bookmark",)))
    assert kobo.annotations(BOOK) == before


# -- KOReader ---------------------------------------------------------------------------------------

POS0 = "/body/DocFragment[2]/body/div/div/p[3]/span[1]/text().5"
POS1 = "/body/DocFragment[2]/body/div/div/p[3]/span[2]/text().12"
NEW_ITEM = NewKOReaderAnnotation(
    pos0=POS0,
    pos1=POS1,
    text="Hostile armies may face each other for years",
    note=None,
    color="yellow",
    drawer="lighten",
    datetime="2026-11-30 21:15:42",
    datetime_updated=None,
)


class SidecarHarness:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "KOBOeReader"
        self.data = self.root / ".adds" / "koreader"
        self.data.mkdir(parents=True)
        self.layout = DeviceLayout(self.root)
        self.store = SidecarAnnotations(SidecarLibrary(self.layout))
        self.document = self.root / "Sun Tzu" / "Art of War.kepub.epub"
        self.document.parent.mkdir()
        self.document.write_bytes(b"PK" * 4000)

    def seed(self, table: LuaTable) -> None:
        spot = locate(KOReaderPaths(self.layout, self.data), self.document, partial_md5(self.document))
        path = spot.target(MetadataMode.DOC, doc_folder_writable=True).path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_settings_file(table, str(path)))


class FakeSidecarHarness:
    def __init__(self, tmp_path: Path) -> None:
        self.store = FakeKOReaderAnnotations()
        self.document = tmp_path / "Art of War.kepub.epub"

    def seed(self, table: LuaTable) -> None:
        self.store.legacy.add(self.document)
        self.store.items[self.document] = []


@pytest.fixture(params=["sidecar", "fake"])
def koreader(request: pytest.FixtureRequest, tmp_path: Path) -> SidecarHarness | FakeSidecarHarness:
    return SidecarHarness(tmp_path) if request.param == "sidecar" else FakeSidecarHarness(tmp_path)


def test_a_book_without_sidecar_has_no_annotations(koreader: SidecarHarness) -> None:
    found = koreader.store.annotations(koreader.document)
    assert found.items == () and not found.legacy
    assert koreader.store.writable_reason(koreader.document) is None


def test_added_annotations_read_back_in_order_with_their_fields(koreader: SidecarHarness) -> None:
    second = NewKOReaderAnnotation(
        POS1, POS1.replace(".12", ".30"), "for years", "mine", "red", "lighten", "x", "y"
    )
    koreader.store.apply(koreader.document, KOReaderAnnotationChanges(added=(NEW_ITEM, second)))
    items = koreader.store.annotations(koreader.document).items
    assert [(i.index, i.pos0, i.pos1, i.text, i.note, i.color, i.drawer) for i in items] == [
        (1, POS0, POS1, NEW_ITEM.text, None, "yellow", "lighten"),
        (2, POS1, POS1.replace(".12", ".30"), "for years", "mine", "red", "lighten"),
    ]
    assert items[0].datetime == "2026-11-30 21:15:42" and items[0].page == POS0
    assert not items[0].is_bookmark


def test_an_edit_and_a_delete_find_the_entry_by_its_pointers(koreader: SidecarHarness) -> None:
    koreader.store.apply(koreader.document, KOReaderAnnotationChanges(added=(NEW_ITEM,)))
    edit = KOReaderAnnotationEdit(POS0, POS1, "a note", "green", "2026-12-01 08:00:00")
    koreader.store.apply(koreader.document, KOReaderAnnotationChanges(edited=(edit,)))
    (item,) = koreader.store.annotations(koreader.document).items
    assert (item.note, item.color, item.datetime_updated) == ("a note", "green", "2026-12-01 08:00:00")
    koreader.store.apply(koreader.document, KOReaderAnnotationChanges(deleted=((POS0, POS1),)))
    assert koreader.store.annotations(koreader.document).items == ()


def test_a_change_to_a_missing_entry_writes_nothing(koreader: SidecarHarness) -> None:
    koreader.store.apply(koreader.document, KOReaderAnnotationChanges(added=(NEW_ITEM,)))
    with pytest.raises(SidecarError, match="no longer in the sidecar"):
        koreader.store.apply(
            koreader.document, KOReaderAnnotationChanges(added=(NEW_ITEM,), deleted=(("/x", "/y"),))
        )
    assert len(koreader.store.annotations(koreader.document).items) == 1


def test_pre_2024_highlights_are_read_only(koreader: SidecarHarness) -> None:
    koreader.seed({"highlight": {3: {1: {"pos0": POS0, "pos1": POS1, "text": "x", "datetime": "d"}}}})
    assert koreader.store.writable_reason(koreader.document) is not None
    with pytest.raises(SidecarError, match="pre-2024"):
        koreader.store.apply(koreader.document, KOReaderAnnotationChanges(added=(NEW_ITEM,)))
    assert koreader.store.annotations(koreader.document).legacy


def test_nothing_to_change_writes_nothing(koreader: SidecarHarness) -> None:
    assert koreader.store.apply(koreader.document, KOReaderAnnotationChanges()) is None
    assert koreader.store.annotations(koreader.document).items == ()
