"""Highlights and notes both ways on the real fw 4.38 database and its four real Bookmark rows
(the Art of War kepub rebuilt around them, tests/support/annotated_fixture.py), through the real
adapters wired by the container: what crosses, where it lands, and what is never touched."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from adapters.epub.annotation_positions import EpubAnnotationPlacer
from adapters.kobo.bookmarks import NickelBookmarks
from adapters.koreader import SidecarLibrary
from adapters.koreader.annotations import SidecarAnnotations
from adapters.koreader.lua_values import LuaTable
from application.annotation_records import KOReaderAnnotationChanges, NewKOReaderAnnotation
from application.reports import BookReport
from application.service import NobodyToAsk
from application.settings import Settings
from entrypoints.container import build_container
from tests.e2e.cli.real_fixture import ART_OF_WAR
from tests.support.annotated_fixture import annotated_fixture_device
from tests.support.crengine_oracle import resolve_all

BOOK = ART_OF_WAR.book_id
CHAPTER = "/mnt/onboard/Sun Tzu/Art of War, The - Sun Tzu.kepub.epub!!epub/text/translators-intro-1.xhtml"
PREFIX = "/body/DocFragment[6]/body/div/div"
OWNED_KEYS = {"annotations", "annotations_externally_modified"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("annotated") / "KOBOeReader"
    annotated_fixture_device(root)
    return root


@pytest.fixture
def device(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "KOBOeReader"
    shutil.copytree(template, root)
    return root


def sync(device: Path, *, dry_run: bool = False, **settings: object) -> BookReport:
    container = build_container(device, Settings().merged(settings, "test"))
    service = container.service()
    run = service.plan([BOOK]) if dry_run else service.sync_all(NobodyToAsk(), [BOOK])
    (report,) = run.books
    assert report.error is None
    return report


def book_file(device: Path) -> Path:
    return device / "Sun Tzu" / "Art of War, The - Sun Tzu.kepub.epub"


def sidecar_store(device: Path) -> SidecarAnnotations:
    from adapters.device import DeviceLayout

    return SidecarAnnotations(SidecarLibrary(DeviceLayout(device)))


def sidecar_table(device: Path) -> LuaTable:
    from adapters.device import DeviceLayout

    loaded = SidecarLibrary(DeviceLayout(device)).load(book_file(device))
    assert loaded is not None
    return dict(loaded.table)


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables_but_bookmark(db: Path) -> dict[str, list[str]]:
    with closing(sqlite3.connect(db)) as connection:
        connection.text_factory = bytes
        names = [
            row[0].decode()
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            name: sorted(map(repr, connection.execute(f'SELECT * FROM "{name}"')))
            for name in names
            if name != "Bookmark"
        }


def kobo_rows(device: Path) -> list[dict[str, object]]:
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM Bookmark WHERE VolumeID = ? ORDER BY DateCreated", (BOOK,))
        return [dict(row) for row in rows]


def placed_text(device: Path, pos0: str, pos1: str) -> str:
    document = EpubAnnotationPlacer(EpubContent()).open(book_file(device))
    return document.text(document.from_koreader(pos0, pos1))


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_nickels_real_highlights_reach_koreader_at_the_same_characters_with_their_notes(device: Path) -> None:
    database = device / ".kobo" / "KoboReader.sqlite"
    before = tables_but_bookmark(database)
    rows = kobo_rows(device)
    report = sync(device)
    assert report.annotations is not None
    counts = report.annotations.as_dict()
    assert (counts["added_to_koreader"], counts["added_to_kobo"]) == (4, 0)
    assert report.annotations.unplaced == [] and report.annotations.conflicts == []
    items = sidecar_store(device).annotations(book_file(device)).items
    assert len(items) == 4
    by_text = {squeeze(item.text): item for item in items}
    for row in rows:
        item = by_text[squeeze(str(row["Text"]))]
        assert item.pos0 is not None and item.pos1 is not None
        assert squeeze(placed_text(device, item.pos0, item.pos1)) == squeeze(str(row["Text"]))
        assert item.note == (row["Annotation"] or None)
        assert (item.drawer, item.color) == ("lighten", "yellow")
    assert {item.pos0 for item in items} >= {
        f"{PREFIX}/p[204]/span[1]/text().0",
        f"{PREFIX}/p[215]/span[1]/text().1",
    }
    assert sidecar_table(device)["annotations_externally_modified"] is True
    assert tables_but_bookmark(database) == before
    assert kobo_rows(device) == rows


def test_a_second_sync_writes_nothing_anywhere(device: Path) -> None:
    sync(device)
    database, sidecar = (
        device / ".kobo" / "KoboReader.sqlite",
        sidecar_store(device).annotations(book_file(device)),
    )
    assert sidecar.sidecar is not None
    prints = (fingerprint(database), fingerprint(sidecar.sidecar))
    report = sync(device)
    assert report.annotations is not None and not report.annotations.written
    assert report.annotations.changes == []
    assert (fingerprint(database), fingerprint(sidecar.sidecar)) == prints


def test_a_koreader_highlight_reaches_nickel_at_the_same_span_and_offset(device: Path) -> None:
    sync(device)
    table_before = sidecar_table(device)
    text = "ler kobo 100 2 goes here. Filler kobo 100 3 goes here. Filler kob"
    pos0, pos1 = f"{PREFIX}/p[100]/span[2]/text().3", f"{PREFIX}/p[101]/span[1]/text().10"
    assert placed_text(device, pos0, pos1) == text  # the pointers name exactly these characters
    added = NewKOReaderAnnotation(pos0, pos1, text, "mine", "red", "lighten", "2026-11-30 21:00:00", None)
    sidecar_store(device).apply(book_file(device), KOReaderAnnotationChanges(added=(added,)))
    report = sync(device)
    assert report.annotations is not None and report.annotations.added_to_kobo == 1
    (row,) = [row for row in kobo_rows(device) if row["Text"] == text]
    assert (row["StartContainerPath"], row["StartOffset"], row["EndContainerPath"], row["EndOffset"]) == (
        "span#kobo\\.100\\.2",
        3,
        "span#kobo\\.101\\.1",
        10,
    )
    assert (row["StartContainerChildIndex"], row["EndContainerChildIndex"]) == (-99, -99)
    assert (row["ContentID"], row["VolumeID"], row["Type"], row["Annotation"]) == (
        CHAPTER,
        BOOK,
        "note",
        "mine",
    )
    assert (row["Hidden"], row["Published"]) == ("false", "false")
    assert row["UserID"] == "9096560f-fc26-4cb2-9527-dba6803a8055"
    assert len(str(row["BookmarkID"])) == 36 and str(row["DateCreated"]).count(".") == 1
    progress = row["ChapterProgress"]
    assert isinstance(progress, float) and 0 < progress < 1
    after = sidecar_table(device)
    assert {k: v for k, v in after.items() if k not in OWNED_KEYS} == {
        k: v for k, v in table_before.items() if k not in OWNED_KEYS
    }
    rows_now = NickelBookmarks(device / ".kobo" / "KoboReader.sqlite").annotations(BOOK)
    assert len(rows_now) == 5
    again = sync(device).annotations
    assert again is not None and again.changes == []


def test_a_highlight_deleted_in_koreader_is_deleted_in_nickel_only_when_proven(device: Path) -> None:
    sync(device)
    items = sidecar_store(device).annotations(book_file(device)).items
    gone = next(
        item for item in items if item.text.startswith(" The attribution") or "attribution" in item.text
    )
    assert gone.pos0 is not None and gone.pos1 is not None
    sidecar_store(device).apply(
        book_file(device), KOReaderAnnotationChanges(deleted=((gone.pos0, gone.pos1),))
    )
    report = sync(device)
    assert report.annotations is not None and report.annotations.deleted_from_kobo == 1
    assert len(kobo_rows(device)) == 3
    assert all("attribution" not in str(row["Text"]) for row in kobo_rows(device))
    again = sync(device).annotations
    assert again is not None and again.changes == []


def test_an_edited_nickel_note_replaces_the_koreader_note(device: Path) -> None:
    sync(device)
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as connection, connection:
        connection.execute(
            "UPDATE Bookmark SET Annotation = 'Changed on the Kobo', DateModified = '2026-11-30T10:00:00Z' "
            "WHERE Annotation = 'Test'"
        )
    report = sync(device)
    assert report.annotations is not None and report.annotations.changed_on_koreader == 1
    notes = {item.note for item in sidecar_store(device).annotations(book_file(device)).items}
    assert notes == {"Such a cool quote! Amazing!", "Changed on the Kobo", None}
    again = sync(device).annotations
    assert again is not None and again.changes == []


def test_the_dry_run_lists_every_change_and_writes_nothing(device: Path) -> None:
    database = device / ".kobo" / "KoboReader.sqlite"
    print_before = fingerprint(database)
    report = sync(device, dry_run=True)
    assert report.annotations is not None and report.annotations.added_to_koreader == 4
    assert len(report.annotations.changes) == 4
    assert all(line.startswith("KOReader + ") for line in report.annotations.changes)
    assert fingerprint(database) == print_before
    assert sidecar_store(device).annotations(book_file(device)).sidecar is None
    assert not (device / ".adds" / "kksync" / "ledger.sqlite").exists()


def test_sync_annotations_false_leaves_them_alone(device: Path) -> None:
    report = sync(device, sync_annotations="false")
    assert report.annotations is None
    assert sidecar_store(device).annotations(book_file(device)).items == ()


def test_a_row_whose_text_is_not_in_the_book_is_reported_and_blocks_no_deletion(device: Path) -> None:
    sync(device)
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as connection, connection:
        connection.execute("UPDATE Bookmark SET Text = 'words that are not there' WHERE Annotation = 'Test'")
    report = sync(device)
    assert report.annotations is not None
    assert len(report.annotations.unplaced) == 1 and "not the book's text" in report.annotations.unplaced[0]
    assert report.annotations.deleted_from_koreader == 0  # absent from Kobo's placed set, but not proven gone
    assert len(sidecar_store(device).annotations(book_file(device)).items) == 4


def test_crengine_reads_the_written_pointers_at_the_highlighted_characters(device: Path) -> None:
    sync(device)
    items = sidecar_store(device).annotations(book_file(device)).items
    pointers = [pointer for item in items for pointer in (item.pos0, item.pos1) if pointer is not None]
    answers = resolve_all(book_file(device), pointers)
    document = EpubAnnotationPlacer(EpubContent()).open(book_file(device))
    assert len(answers) == 2 * len(items) == 8
    for item, start, end in zip(items, answers[0::2], answers[1::2], strict=True):
        assert start["resolves"] and end["resolves"]
        assert (start["normalized"], end["normalized"]) == (item.pos0, item.pos1)  # KOReader's own spelling
        assert squeeze(item.text).startswith(squeeze(start["text_after"]))
        assert squeeze(start["text_after"])
        assert item.pos0 is not None and item.pos1 is not None
        where = document.from_koreader(item.pos0, item.pos1)
        after = document.chapter(where.end.spine_index).text[where.end.offset :]
        assert squeeze(after).startswith(squeeze(end["text_after"]))
