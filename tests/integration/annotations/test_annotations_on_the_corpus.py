"""Highlights both ways on the fidelity corpus kepub (tests/fidelity/corpus.py): text in list items,
table cells, beside floats, after images (with and without their own koboSpan), in inline-blocks and
loose beside blocks. The real fw 4.38 device (with its four real Bookmark rows) gets the corpus book
added; every passage's Nickel span + offsets and KOReader pointers are written down here, so a bare
clone guards them, and the crengine oracle, when present, confirms KOReader reads the same characters
at DOM 20240114 (``cre-oracle``) and 20260812 (``cre-oracle-head``)."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.epub import EpubContent
from adapters.koreader import SidecarLibrary
from application.annotation_records import KOReaderAnnotationChanges, NewKOReaderAnnotation, selector_of_span
from application.reports import BookReport
from application.service import NobodyToAsk
from application.settings import Settings
from entrypoints.container import build_container
from entrypoints.demo.kepub_builder import build_epub
from entrypoints.demo.nickel_builder import add_kepub_book
from tests.fidelity.corpus import kepub_spec
from tests.fidelity.oracle import ENGINES, Engine, Oracle, oracle_dir
from tests.integration.annotations.test_annotation_sync import (
    OWNED_KEYS,
    fingerprint,
    sidecar_store,
    squeeze,
    tables_but_bookmark,
)
from tests.support.annotated_fixture import annotated_fixture_device

BOOK = "file:///mnt/onboard/Corpus/Fidelity Kepub.kepub.epub"
DF1, DF2 = "/body/DocFragment[1]/body/div", "/body/DocFragment[2]/body/div/div"
STORE, CH1 = "OEBPS/Text/store.xhtml", "OEBPS/Text/ch1.xhtml"


@dataclass(frozen=True)
class Passage:
    """One highlight, as each side spells it, and the text the oracle shows right after its end."""

    construct: str
    zip_path: str
    start: tuple[str, int]
    end: tuple[str, int]  # an end on a span's last character is the next span at 0, as Nickel writes
    text: str
    pos0: str
    pos1: str
    after: str


PASSAGES = (
    Passage("list item", CH1, ("kobo.12.1", 0), ("kobo.12.1", 11), "Nested item",
            f"{DF2}/ul/li[1]/ol/li[1]/span/text().0", f"{DF2}/ul/li[1]/ol/li[1]/span/text().11", "."),
    Passage("list item tail beside a block", CH1, ("kobo.13.2", 1), ("kobo.13.2", 10), "tail text",
            f"{DF2}/ul/li[2]/span[2]/text().1", f"{DF2}/ul/li[2]/span[2]/text().10", "."),
    Passage("table cell", CH1, ("kobo.15.1", 0), ("kobo.15.1", 9), "cell para",
            f"{DF2}/table/tr[1]/td[2]/p/span/text().0", f"{DF2}/table/tr[1]/td[2]/p/span/text().9", "graph"),
    Passage("table cell to its span's end", CH1, ("kobo.15.1", 5), ("kobo.15.2", 0), "paragraph",
            f"{DF2}/table/tr[1]/td[2]/p/span/text().5", f"{DF2}/table/tr[1]/td[2]/p/span/text().14", ""),
    Passage("beside a float", CH1, ("kobo.9.7", 1), ("kobo.9.7", 12), "text beside",
            f"{DF2}/div[4]/span[2]/text().1", f"{DF2}/div[4]/span[2]/text().12", " the float."),
    Passage("after a float, across spans", CH1, ("kobo.8.1", 10), ("kobo.8.2", 5), "float. Still",
            f"{DF2}/p[2]/span[1]/text().10", f"{DF2}/p[2]/span[2]/text().5", " after."),
    Passage("after an image with its own span", CH1, ("kobo.6.2", 1), ("kobo.6.2", 16), "after the image",
            f"{DF2}/p[1]/span[3]/text().1", f"{DF2}/p[1]/span[3]/text().16", ". "),
    Passage("after an image without a span", STORE, ("kobo.4.1", 0), ("kobo.4.1", 14), "After the bare",
            f"{DF1}/p[3]/span[1]/text().0", f"{DF1}/p[3]/span[1]/text().14", " image. "),
    Passage("inside an inline-block", CH1, ("kobo.10.2", 3), ("kobo.10.2", 9), "inline",
            f"{DF2}/p[4]/span[2]/span/text().3", f"{DF2}/p[4]/span[2]/span/text().9", " block"),
    Passage("into an inline-block", CH1, ("kobo.10.1", 0), ("kobo.10.2", 9), "x an inline",
            f"{DF2}/p[4]/span[1]/text().0", f"{DF2}/p[4]/span[2]/span/text().9", " block"),
    Passage("loose text between blocks", CH1, ("kobo.1.3", 1), ("kobo.1.3", 11), "more loose",
            f"{DF2}/div[1]/span[2]/text().1", f"{DF2}/div[1]/span[2]/text().11", " text between blocks"),
    Passage("loose text after a block", STORE, ("kobo.9.2", 5), ("kobo.9.2", 10), "loose",
            f"{DF1}/div[4]/span[2]/text().5", f"{DF1}/div[4]/span[2]/text().10", " again."),
)  # fmt: skip
DOM_ENGINES = {engine.dom_version: engine for engine in ENGINES}
CHECKED_DOMS = (20240114, 20260812)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real fixture device with the corpus kepub added as a sideloaded book Nickel has opened."""
    root = tmp_path_factory.mktemp("corpus") / "KOBOeReader"
    layout = annotated_fixture_device(root)
    path = build_epub(kepub_spec(), layout.book_host_path(BOOK), kepub=True)
    spine = [(item.zip_path, item.size) for item in EpubContent().open(path).spine]
    add_kepub_book(layout.database, content_id=BOOK, title="Fidelity Kepub", author="Corpus", chapters=spine)
    return root


@pytest.fixture
def device(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "KOBOeReader"
    shutil.copytree(template, root)
    return root


def sync(device: Path) -> BookReport:
    service = build_container(device, Settings()).service()
    (report,) = service.sync_all(NobodyToAsk(), [BOOK]).books
    assert report.error is None
    return report


def book_file(device: Path) -> Path:
    return DeviceLayout(device).book_host_path(BOOK)


def database(device: Path) -> Path:
    return device / ".kobo" / "KoboReader.sqlite"


def opened_in_koreader(device: Path, dom_version: int) -> Path:
    """A sidecar as KOReader leaves a book it opened at ``dom_version``, before any highlight."""
    book = book_file(device)
    sidecar = book.with_name(book.stem + ".sdr") / "metadata.epub.lua"
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_text(
        "-- we can read Lua syntax here!\nreturn {\n"
        f'    ["cre_dom_version"] = {dom_version},\n'
        f'    ["doc_path"] = "{DeviceLayout(device).book_device_path(BOOK)}",\n'
        '    ["font_size"] = 22,\n'
        "}\n"
    )
    return sidecar


def add_nickel_highlight(device: Path, passage: Passage, note: str) -> None:
    """A row shaped like the fixture's own Nickel highlights, naming the passage by span + offset."""
    with closing(sqlite3.connect(database(device))) as connection, connection:
        (chapter,) = connection.execute(
            "SELECT ContentID FROM content WHERE BookID = ? AND ContentType = 9 AND ContentID LIKE ?",
            (BOOK, f"%!OEBPS!{passage.zip_path.removeprefix('OEBPS/')}"),
        ).fetchone()
        connection.execute(
            "INSERT INTO Bookmark (BookmarkID, VolumeID, ContentID, StartContainerPath, "
            "StartContainerChildIndex, StartOffset, EndContainerPath, EndContainerChildIndex, EndOffset, "
            "Text, Annotation, Type, DateCreated, DateModified, ChapterProgress, Hidden, Published) "
            "VALUES (?, ?, ?, ?, -99, ?, ?, -99, ?, ?, ?, ?, '2026-11-30T10:00:00.000', "
            "'2026-11-30T10:00:00Z', 0.5, 'false', 'false')",
            (
                str(uuid.uuid4()),
                BOOK,
                chapter,
                selector_of_span(passage.start[0]),
                passage.start[1],
                selector_of_span(passage.end[0]),
                passage.end[1],
                passage.text,
                note,
                "note" if note else "highlight",
            ),
        )


def add_koreader_highlight(device: Path, passage: Passage, pos0: str, pos1: str, note: str) -> None:
    added = NewKOReaderAnnotation(
        pos0, pos1, passage.text, note, "red", "lighten", "2026-11-30 21:00:00", None
    )
    sidecar_store(device).apply(book_file(device), KOReaderAnnotationChanges(added=(added,)))


def kobo_rows(device: Path) -> dict[str, sqlite3.Row]:
    with closing(sqlite3.connect(database(device))) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM Bookmark WHERE VolumeID = ?", (BOOK,)).fetchall()
    return {str(row["Text"]): row for row in rows}


def sidecar_keys(device: Path) -> dict[object, object]:
    loaded = SidecarLibrary(DeviceLayout(device)).load(book_file(device))
    assert loaded is not None
    return {key: value for key, value in loaded.table.items() if key not in OWNED_KEYS}


def assert_second_sync_writes_nothing(device: Path) -> None:
    sidecar = sidecar_store(device).annotations(book_file(device)).sidecar
    assert sidecar is not None
    prints = (fingerprint(database(device)), fingerprint(sidecar))
    report = sync(device)
    assert report.annotations is not None and report.annotations.changes == []
    assert (fingerprint(database(device)), fingerprint(sidecar)) == prints


def oracle_or_skip() -> Oracle:
    directory = oracle_dir()
    if directory is None:
        pytest.skip("the crengine oracle is absent (set KKSYNC_CRE_ORACLE_DIR or keep shared/tools/crengine)")
    return Oracle(directory)


def assert_oracle_reads(engine: Engine, book: Path, pairs: list[tuple[Passage, str, str]]) -> None:
    """crengine resolves both pointers, at the passage's first character and just after its last."""
    answers = Oracle.batch(
        oracle_or_skip(), engine, book, [f"resolve {p}" for _, a, b in pairs for p in (a, b)]
    )
    for (passage, _, _), start, end in zip(pairs, answers[0::2], answers[1::2], strict=True):
        assert start["resolves"] and end["resolves"], passage.construct
        shown, wanted = squeeze(start["text_after"]), squeeze(passage.text)
        assert shown.startswith(wanted) or wanted.startswith(shown), (passage.construct, start)
        assert wanted.startswith(shown) == (passage.start[0] != passage.end[0]), passage.construct
        assert end["text_after"] == passage.after, (passage.construct, end)


# Nickel → KOReader -----------------------------------------------------------------------------


def nickel_to_koreader(device: Path, dom_version: int | None) -> None:
    if dom_version is not None:
        opened_in_koreader(device, dom_version)
    db_before = tables_but_bookmark(database(device))
    for number, passage in enumerate(PASSAGES):
        add_nickel_highlight(device, passage, f"note {number}" if number % 2 else "")
    report = sync(device)
    assert report.annotations is not None and report.annotations.unplaced == []
    assert report.annotations.added_to_koreader == len(PASSAGES) and report.annotations.added_to_kobo == 0
    items = {item.text: item for item in sidecar_store(device).annotations(book_file(device)).items}
    for number, passage in enumerate(PASSAGES):
        item = items[passage.text]
        assert (item.pos0, item.pos1) == (passage.pos0, passage.pos1), passage.construct
        assert (item.note, item.drawer, item.color) == (
            f"note {number}" if number % 2 else None,
            "lighten",
            "yellow",
        )
    assert tables_but_bookmark(database(device)) == db_before
    assert_second_sync_writes_nothing(device)
    assert tables_but_bookmark(database(device)) == db_before  # an unopened book stays unopened in Nickel


def test_nickel_highlights_on_every_construct_reach_koreader_at_the_written_down_pointers(
    device: Path,
) -> None:
    nickel_to_koreader(device, None)
    keys = sidecar_keys(device)
    assert keys["cre_dom_version"] == 20240114  # a new sidecar: the pointers are read at this DOM


def test_koreaders_existing_settings_stay_byte_identical_beside_the_added_highlights(device: Path) -> None:
    sidecar = opened_in_koreader(device, 20240114)
    before = sidecar.read_text()
    nickel_to_koreader(device, None)
    after = sidecar.read_text()
    assert '["font_size"] = 22,' in after and '["cre_dom_version"] = 20240114,' in after
    assert sidecar_keys(device) == {"cre_dom_version": 20240114, "doc_path": BOOK.removeprefix("file://"),
                                    "font_size": 22}  # fmt: skip
    assert after != before and '["annotations_externally_modified"] = true' in after


@pytest.mark.parametrize("dom_version", CHECKED_DOMS)
def test_crengine_reads_the_pulled_highlights_at_the_same_characters(device: Path, dom_version: int) -> None:
    oracle_or_skip()
    nickel_to_koreader(device, dom_version)
    items = sidecar_store(device).annotations(book_file(device)).items
    by_text = {item.text: item for item in items}
    pairs = [(p, str(by_text[p.text].pos0), str(by_text[p.text].pos1)) for p in PASSAGES]
    assert_oracle_reads(DOM_ENGINES[dom_version], book_file(device), pairs)


# KOReader → Nickel -----------------------------------------------------------------------------


def koreader_to_nickel(device: Path, pointers: list[tuple[str, str]]) -> None:
    sync(device)  # KOReader's sidecar (if any) and the ledger as after a first, empty, sync
    keys_before, db_before = (
        sidecar_keys(device) if sidecar_store(device).annotations(book_file(device)).sidecar else None,
        tables_but_bookmark(database(device)),
    )
    for number, (passage, (pos0, pos1)) in enumerate(zip(PASSAGES, pointers, strict=True)):
        add_koreader_highlight(device, passage, pos0, pos1, f"mine {number}" if number % 2 else "")
    report = sync(device)
    assert report.annotations is not None and report.annotations.unplaced == []
    assert report.annotations.added_to_kobo == len(PASSAGES) and report.annotations.added_to_koreader == 0
    rows = kobo_rows(device)
    for number, passage in enumerate(PASSAGES):
        row = rows[passage.text]
        assert (row["StartContainerPath"], row["StartOffset"], row["EndContainerPath"], row["EndOffset"]) == (
            selector_of_span(passage.start[0]),
            passage.start[1],
            selector_of_span(passage.end[0]),
            passage.end[1],
        ), passage.construct
        assert str(row["ContentID"]).endswith("!OEBPS!" + passage.zip_path.removeprefix("OEBPS/"))
        assert (row["Annotation"], row["Type"]) == (
            (f"mine {number}", "note") if number % 2 else ("", "highlight")
        )
    assert tables_but_bookmark(database(device)) == db_before
    if keys_before is not None:
        assert sidecar_keys(device) == keys_before
    assert_second_sync_writes_nothing(device)


def test_koreader_highlights_on_every_construct_reach_nickel_at_the_written_down_spans(device: Path) -> None:
    opened_in_koreader(device, 20240114)
    koreader_to_nickel(device, [(p.pos0, p.pos1) for p in PASSAGES])


@pytest.mark.parametrize("dom_version", CHECKED_DOMS)
def test_koreader_highlights_spelled_by_crengine_reach_nickel_at_the_same_characters(
    device: Path, dom_version: int
) -> None:
    """The pointers are crengine's own spelling at that DOM (every step indexed at 20260812)."""
    engine = DOM_ENGINES[dom_version]
    answers = oracle_or_skip().batch(
        engine,
        book_file(device),
        [f"resolve {p}" for passage in PASSAGES for p in (passage.pos0, passage.pos1)],
    )
    pointers = [
        (str(a["normalized"]), str(b["normalized"]))
        for a, b in zip(answers[0::2], answers[1::2], strict=True)
    ]
    if dom_version >= 20260812:
        assert all(pos0.startswith("/body[1]/DocFragment[") for pos0, _ in pointers)
    assert_oracle_reads(
        engine, book_file(device), [(p, a, b) for p, (a, b) in zip(PASSAGES, pointers, strict=True)]
    )
    opened_in_koreader(device, dom_version)
    koreader_to_nickel(device, pointers)


# Old DOMs --------------------------------------------------------------------------------------


def test_an_old_dom_sidecar_is_reported_and_not_written(device: Path) -> None:
    sidecar = opened_in_koreader(device, 20171225)
    before = sidecar.read_bytes()
    add_nickel_highlight(device, PASSAGES[0], "")
    for _ in range(2):  # reported on every run, never written
        report = sync(device)
        assert report.annotations is not None and report.annotations.added_to_koreader == 0
        assert not report.annotations.written and report.annotations.changes == []
        (note,) = [note for note in report.annotations.notes if note.startswith("annotations not synced")]
        assert "20200223" in note or "DOM" in note, note
        assert sidecar.read_bytes() == before
