"""The annotation use case with the in-memory stores and ledger, on a generated kepub: what it
refuses, what it reports, and that a failure leaves the agreement for the next run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from adapters.epub.annotation_positions import EpubAnnotationPlacer
from application.annotation_records import KoboAnnotationRow, KOReaderAnnotationItem
from application.annotations import AnnotationSync
from application.errors import KoboDatabaseError
from application.records import BookKind, BookSource, FileState, KoboBook
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from tests.fakes.annotations import FakeKoboAnnotations, FakeKOReaderAnnotations
from tests.fakes.clock import FixedClock
from tests.fakes.kobo import FakeKoboLibrary
from tests.fakes.ledger import FakeLedger

BOOK_ID = "0RDTATJQNHSQ0"
ZIP = "OEBPS/Text/one.xhtml"
CHAPTER_ID = f"{BOOK_ID}!OEBPS!Text/one.xhtml"
SPAN = "span#kobo\\.1\\.1"
P = "/body/DocFragment/body/p"
BODY = (
    '<p><span class="koboSpan" id="kobo.1.1">Call me Ishmael. </span>'
    '<span class="koboSpan" id="kobo.1.2">Some years ago, never mind how long.</span></p>'
)


class World:
    def __init__(self, tmp_path: Path, kind: BookKind = BookKind.KEPUB) -> None:
        path = build_epub(
            BookSpec("Moby", "H. M.", [ChapterSpec("Text/one.xhtml", body=BODY)]),
            tmp_path / "m.kepub.epub",
            kepub=True,
        )
        self.book = KoboBook(
            BOOK_ID, "Moby", "H. M.", None, BookSource.KOMGA, kind, "/mnt/onboard/m", path, FileState.READABLE
        )
        self.kobo_library = FakeKoboLibrary([self.book], backup_dir=tmp_path / "backups")
        self.kobo = FakeKoboAnnotations({BOOK_ID: {ZIP: CHAPTER_ID}})
        self.koreader = FakeKOReaderAnnotations()
        self.ledger = FakeLedger()
        self.sync = AnnotationSync(
            self.kobo_library,
            self.kobo,
            self.koreader,
            EpubAnnotationPlacer(EpubContent()),
            self.ledger,
            FixedClock(),
        )

    def kobo_row(self, start: int = 0, end: int = 7, note: str | None = None) -> KoboAnnotationRow:
        text = "Call me Ishmael. "[start:end]
        row = KoboAnnotationRow(
            f"id-{start}-{end}", BOOK_ID, CHAPTER_ID, ZIP, SPAN, start, SPAN, end,
            "note" if note else "highlight", text, note,
        )  # fmt: skip
        self.kobo.rows.setdefault(BOOK_ID, []).append(row)
        return row


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_a_kobo_highlight_goes_to_koreader_once_with_a_backup_first(world: World) -> None:
    world.kobo_row(note="who?")
    report = world.sync.sync(world.book, dry_run=False)
    assert (report.added_to_koreader, report.written, report.error) == (1, True, None)
    (item,) = world.koreader.items[world.book.file_path]
    assert (item.text, item.note, item.color) == ("Call me", "who?", "yellow")
    assert world.kobo_library.backups == []  # nothing written to Nickel: no backup taken
    assert len(world.ledger.agreed_annotations(BOOK_ID)) == 1
    again = world.sync.sync(world.book, dry_run=False)
    assert again.changes == [] and not again.written and world.koreader.writes == 1


def test_a_koreader_highlight_goes_to_nickel_after_one_backup(world: World) -> None:
    world.koreader.items[world.book.file_path] = [
        KOReaderAnnotationItem(1, f"{P}/span[2]/text().5", f"{P}/span[2]/text().10", "years",
                               drawer="lighten", color="green"),
    ]  # fmt: skip
    report = world.sync.sync(world.book, dry_run=False)
    assert report.added_to_kobo == 1 and len(world.kobo_library.backups) == 1
    (row,) = world.kobo.rows[BOOK_ID]
    assert (row.start_span, row.start_offset, row.end_span, row.end_offset) == ("kobo.1.2", 5, "kobo.1.2", 10)
    assert (row.content_id, row.text, row.kind) == (CHAPTER_ID, "years", "highlight")


def test_a_failed_kobo_write_keeps_the_previous_agreement(world: World) -> None:
    world.koreader.items[world.book.file_path] = [
        KOReaderAnnotationItem(1, f"{P}/span[1]/text().0", f"{P}/span[1]/text().4", "Call", drawer="lighten"),
    ]  # fmt: skip

    def refuse(book_id: str, changes: object) -> None:
        raise KoboDatabaseError("Kobo database is locked")

    world.kobo.apply = refuse  # type: ignore[method-assign]
    report = world.sync.sync(world.book, dry_run=False)
    assert report.error == "Kobo database is locked" and not report.written
    assert world.ledger.agreed_annotations(BOOK_ID) == [] and world.ledger.writes == 0


def test_a_koreader_side_in_the_old_format_blocks_writes_to_it_and_says_why(world: World) -> None:
    world.kobo_row()
    world.koreader.items[world.book.file_path] = []
    world.koreader.legacy.add(world.book.file_path)
    report = world.sync.sync(world.book, dry_run=False)
    assert not report.written and report.added_to_koreader == 0 and report.changes == []
    assert any("pre-2024" in note for note in report.notes)
    assert world.koreader.writes == 0 and world.ledger.writes == 0


def test_a_plain_epub_is_listed_with_the_reason_and_never_written(tmp_path: Path) -> None:
    world = World(tmp_path, BookKind.EPUB)
    world.kobo_row()
    listing = world.sync.listing(world.book)
    assert listing.annotations == ()
    (unplaced,) = listing.unplaced
    assert (unplaced.side, unplaced.text) == ("kobo", "Call me") and "epub book" in unplaced.reason
    report = world.sync.sync(world.book, dry_run=False)
    assert not report.written and report.notes and report.unplaced


def test_the_listing_shows_each_sides_note_for_the_same_passage(world: World) -> None:
    world.kobo_row(note="kobo thought")
    world.koreader.items[world.book.file_path] = [
        KOReaderAnnotationItem(1, f"{P}/span[1]/text().0", f"{P}/span[1]/text().7", "Call me",
                               note="koreader thought", drawer="lighten"),
    ]  # fmt: skip
    (listed,) = world.sync.listing(world.book).annotations
    assert listed.sides == ("kobo", "koreader")
    assert (listed.kobo and listed.kobo.note, listed.koreader and listed.koreader.note) == (
        "kobo thought",
        "koreader thought",
    )
    report = world.sync.sync(world.book, dry_run=True)
    assert [line.split(":")[0] for line in report.conflicts] == ["NOTES_DIFFER"]
    assert report.changed_on_kobo == 1 and report.changed_on_koreader == 1


def test_a_book_without_any_annotation_is_not_even_opened(world: World) -> None:
    missing = replace(world.book, file_path=world.book.file_path.with_name("absent.kepub.epub"))
    report = world.sync.sync(missing, dry_run=False)
    assert (report.error, report.notes, report.written) == (None, [], False)


def test_a_file_system_error_is_reported_for_the_book_and_nothing_is_agreed(world: World) -> None:
    world.kobo_row()

    def refuse(document: Path, changes: object) -> None:
        raise PermissionError(13, "Permission denied", str(document))

    world.koreader.apply = refuse  # type: ignore[method-assign]
    report = world.sync.sync(world.book, dry_run=False)
    assert report.error is not None and "Permission denied" in report.error
    assert world.ledger.writes == 0
