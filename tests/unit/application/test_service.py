"""The use cases against in-memory fakes, swapped in through the container as in production wiring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dependency_injector import providers

from application.errors import StaleQuestion
from application.records import (
    BookKind,
    BookSource,
    FileState,
    KoboBook,
    KoboBookmark,
    KoboChapter,
)
from application.service import AlwaysYes, NobodyToAsk, SyncService
from application.settings import Settings
from domain.decision import Reason, Transfer
from domain.policy import Action
from entrypoints.container import build_container
from tests.fakes.annotations import FakeKoboAnnotations, FakeKOReaderAnnotations
from tests.fakes.book_content import FakeBookContent, FakeChapter
from tests.fakes.clock import FixedClock
from tests.fakes.kobo import FakeKoboLibrary
from tests.fakes.koreader import FakeKOReaderLibrary
from tests.fakes.ledger import FakeLedger

KOBO_TIME = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
KOREADER_TIME = datetime(2026, 11, 21, 22, 40, 31, tzinfo=UTC)
CHAPTERS = (
    FakeChapter("OEBPS/ch1.xhtml", 4000, 1000, [("kobo.1.1", 0), ("kobo.2.1", 500)]),
    FakeChapter("OEBPS/ch2.xhtml", 4000, 1000, [(f"kobo.{n}.1", (n - 1) * 100) for n in range(1, 11)]),
)


def kobo_book(
    book_id: str = "0RDTATJQNHSQ0",
    *,
    span: str | None = None,
    chapter: str = "OEBPS/ch2.xhtml",
    read_status: int = 0,
    percent: int = 0,
    when: datetime | None = None,
    kind: BookKind = BookKind.KEPUB,
) -> KoboBook:
    return KoboBook(
        book_id=book_id,
        title=f"Book {book_id}",
        author="A. Author",
        series=None,
        source=BookSource.KOMGA,
        kind=kind,
        device_path=f"/mnt/onboard/.kobo/kepub/{book_id}",
        file_path=Path(f"/device/.kobo/kepub/{book_id}"),
        file_state=FileState.READABLE,
        read_status=read_status,
        percent_read=percent,
        date_last_read=when,
        bookmark=KoboBookmark(f"{chapter}#{span}", chapter, span) if span else KoboBookmark(),
        chapters=(
            KoboChapter(f"{book_id}!OEBPS!ch1.xhtml", "OEBPS/ch1.xhtml", 0, 0.0, 50.0),
            KoboChapter(f"{book_id}!OEBPS!ch2.xhtml", "OEBPS/ch2.xhtml", 1, 50.0, 50.0),
        ),
    )


@dataclass
class World:
    kobo: FakeKoboLibrary
    koreader: FakeKOReaderLibrary
    content: FakeBookContent
    ledger: FakeLedger
    clock: FixedClock
    tmp: Path

    def service(self, **settings: object) -> SyncService:
        container = build_container(self.tmp, Settings().merged(settings, "test"))
        container.kobo_library.override(providers.Object(self.kobo))
        container.koreader_library.override(providers.Object(self.koreader))
        container.book_content.override(providers.Object(self.content))
        container.ledger.override(providers.Object(self.ledger))
        container.clock.override(providers.Object(self.clock))
        container.kobo_annotations.override(providers.Object(FakeKoboAnnotations()))
        container.koreader_annotations.override(providers.Object(FakeKOReaderAnnotations()))
        service: SyncService = container.service()
        return service

    def add(self, book: KoboBook, xpointer: str | None = None, when: datetime | None = None) -> None:
        self.kobo = FakeKoboLibrary([*self.kobo.books(), book], backup_dir=self.tmp / "backups")
        self.content.add(book.file_path, CHAPTERS)
        if xpointer is not None:
            self.koreader.seed(
                book.file_path,
                {"last_xpointer": xpointer, "percent_finished": 0.9, "summary": {"status": "reading"}},
                history_time=when,
                mtime=when,
            )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = FixedClock()
    yield World(
        FakeKoboLibrary(backup_dir=tmp_path / "backups"),
        FakeKOReaderLibrary(clock.now),
        FakeBookContent(),
        FakeLedger(),
        clock,
        tmp_path,
    )


def test_a_newer_kobo_position_is_pulled_to_the_spans_element(world: World) -> None:
    world.add(kobo_book(span="kobo.4.1", read_status=1, percent=65, when=KOBO_TIME))
    report = world.service().sync_all(NobodyToAsk())
    (book,) = report.books
    assert book.decision.transfer is Transfer.PULL and book.written
    (_, write) = world.koreader.writes[0]
    assert write.last_xpointer == "/body/DocFragment[2]/body/span[4]"
    assert write.percent == pytest.approx(0.5 + 0.5 * 0.3)
    assert write.status == "reading" and write.modified == "2026-11-20"
    assert world.kobo.writes == [] and world.kobo.backups == []


def test_a_newer_koreader_position_is_pushed_with_its_span_and_reading_time(world: World) -> None:
    world.add(
        kobo_book(span="kobo.2.1", read_status=1, percent=60, when=KOBO_TIME),
        xpointer="/body/DocFragment[2]/body/span[7]/text().42",
        when=KOREADER_TIME,
    )
    report = world.service().sync_all(NobodyToAsk())
    assert report.books[0].decision.transfer is Transfer.PUSH
    ((book_id, write),) = world.kobo.writes
    assert write.bookmark == "OEBPS/ch2.xhtml#kobo.7.1"
    assert write.date_last_read == KOREADER_TIME
    assert write.read_status == 1 and write.percent_read == round(50 + 50 * 0.642)
    assert write.chapter_content_id == f"{book_id}!OEBPS!ch2.xhtml" and write.chapter_percent_read == 64
    assert len(world.kobo.backups) == 1 and report.backup == world.kobo.backups[0]


def test_a_second_sync_writes_nothing_anywhere(world: World) -> None:
    world.add(kobo_book("A", span="kobo.4.1", read_status=1, when=KOBO_TIME))
    world.add(
        kobo_book("B", span="kobo.1.1", read_status=1, when=KOBO_TIME),
        "/body/DocFragment[2]/body/span[9]",
        KOREADER_TIME,
    )
    world.service().sync_all(NobodyToAsk())
    writes = (len(world.kobo.writes), len(world.koreader.writes), world.ledger.writes)
    again = world.service().sync_all(NobodyToAsk())
    assert {b.decision.reason for b in again.books} == {Reason.IN_SYNC}
    assert (len(world.kobo.writes), len(world.koreader.writes), world.ledger.writes) == writes


def test_a_plan_writes_nothing_at_all(world: World) -> None:
    world.add(kobo_book("A", span="kobo.4.1", read_status=1, when=KOBO_TIME))
    world.add(
        kobo_book("B", read_status=1, when=KOBO_TIME), "/body/DocFragment[1]/body/span[2]", KOREADER_TIME
    )
    report = world.service().plan()
    assert [b.decision.transfer for b in report.books] == [Transfer.PULL, Transfer.PUSH]
    assert report.pulled == 1 and report.pushed == 1
    assert world.kobo.writes == [] and world.koreader.writes == [] and world.ledger.writes == 0
    assert world.kobo.backups == []
    assert any("ChapterIDBookmarked" in change for change in report.books[1].changes)


def test_one_failing_book_does_not_stop_the_others(world: World) -> None:
    world.add(kobo_book("A", span="kobo.4.1", read_status=1, when=KOBO_TIME))
    world.add(kobo_book("B", span="kobo.4.1", read_status=1, when=KOBO_TIME), "/x", KOREADER_TIME)
    world.koreader.broken.add(Path("/device/.kobo/kepub/B"))
    report = world.service().sync_all(NobodyToAsk())
    by_id = {b.book_id: b for b in report.books}
    assert by_id["B"].error is not None and "metadata" in by_id["B"].error
    assert by_id["A"].written and report.failed == 1


def test_a_locked_database_fails_the_push_and_writes_no_ledger(world: World) -> None:
    world.add(kobo_book(read_status=1, when=KOBO_TIME), "/body/DocFragment[2]/body/span[9]", KOREADER_TIME)
    world.kobo.locked = True
    report = world.service().sync_all(NobodyToAsk())
    assert report.books[0].error is not None and "locked" in report.books[0].error
    assert world.ledger.writes == 0


def test_a_failed_backup_means_nothing_is_written_to_kobo(world: World) -> None:
    world.add(
        kobo_book("A", read_status=1, when=KOBO_TIME), "/body/DocFragment[2]/body/span[9]", KOREADER_TIME
    )
    world.add(
        kobo_book("B", read_status=1, when=KOBO_TIME), "/body/DocFragment[2]/body/span[3]", KOREADER_TIME
    )
    world.kobo.read_only = True
    report = world.service().sync_all(NobodyToAsk())
    assert all(b.error and "nothing written to the Kobo database" in b.error for b in report.books)
    assert world.kobo.writes == [] and world.ledger.writes == 0


def test_prompts_wait_for_an_answer_and_apply_it(world: World) -> None:
    world.add(kobo_book(span="kobo.4.1", read_status=1, when=KOBO_TIME))
    service = world.service(sync_from_kobo_newer="prompt")
    report = service.sync_all(NobodyToAsk())
    (question,) = report.questions
    assert not report.books[0].written and world.koreader.writes == []
    assert "Sync newer progress from Kobo?" in question.text and "2026-11-20 14:30 UTC" in question.text
    answered = service.answer(question.token, accept=True)
    assert answered.written and len(world.koreader.writes) == 1
    with pytest.raises(StaleQuestion):
        service.answer(question.token, accept=True)


def test_a_declined_prompt_writes_nothing_and_keeps_the_ledger(world: World) -> None:
    world.add(kobo_book(span="kobo.4.1", read_status=1, when=KOBO_TIME))
    service = world.service(sync_from_kobo_newer=Action.PROMPT)
    question = service.sync_all(NobodyToAsk()).questions[0]
    declined = service.answer(question.token, accept=False)
    assert declined.decision.reason is Reason.DECLINED
    assert world.koreader.writes == [] and world.ledger.entries == {}


def test_a_declined_question_comes_back_only_when_something_changes(world: World) -> None:
    book = kobo_book(span="kobo.4.1", read_status=1, when=KOBO_TIME)
    world.add(book)
    service = world.service(sync_from_kobo_newer="prompt")
    service.answer(service.sync_all(NobodyToAsk()).questions[0].token, accept=False)
    again = world.service(sync_from_kobo_newer="prompt").sync_all(NobodyToAsk())
    assert again.questions == () and again.books[0].decision.reason is Reason.DECLINED
    world.kobo._books[book.book_id] = replace(
        book, bookmark=KoboBookmark("OEBPS/ch2.xhtml#kobo.8.1", "OEBPS/ch2.xhtml", "kobo.8.1")
    )
    changed = world.service(sync_from_kobo_newer="prompt").sync_all(NobodyToAsk())
    assert len(changed.questions) == 1


def test_an_answer_after_the_book_changed_is_refused(world: World) -> None:
    book = kobo_book(span="kobo.4.1", read_status=1, when=KOBO_TIME)
    world.add(book)
    service = world.service(sync_from_kobo_newer="prompt")
    question = service.sync_all(NobodyToAsk()).questions[0]
    moved = replace(book, bookmark=KoboBookmark("OEBPS/ch2.xhtml#kobo.8.1", "OEBPS/ch2.xhtml", "kobo.8.1"))
    world.kobo._books[book.book_id] = moved
    with pytest.raises(StaleQuestion, match="changed"):
        service.answer(question.token, accept=True)
    assert world.koreader.writes == []


def test_yes_to_everything_applies_prompts(world: World) -> None:
    world.add(kobo_book(span="kobo.4.1", read_status=1, when=KOBO_TIME))
    report = world.service(sync_from_kobo_newer="prompt").sync_all(AlwaysYes())
    assert report.books[0].written and report.questions == ()


def test_a_book_open_in_koreader_is_left_alone(world: World) -> None:
    world.add(kobo_book(span="kobo.4.1", read_status=1, when=KOBO_TIME))
    service = world.service()
    service.open_books.add("0RDTATJQNHSQ0")
    report = service.sync_all(NobodyToAsk())
    assert not report.books[0].written and world.koreader.writes == []
    assert "open in KOReader" in report.books[0].notes[-1]


def test_plain_epubs_push_percent_and_status_but_keep_nickels_bookmark(world: World) -> None:
    book = kobo_book(read_status=1, percent=10, when=KOBO_TIME, kind=BookKind.EPUB)
    world.add(replace(book, chapters=()), "/body/DocFragment[2]/body/span[5]", KOREADER_TIME)
    world.service().sync_all(NobodyToAsk())
    ((_, write),) = world.kobo.writes
    assert write.bookmark is None and write.percent_read == 70


def test_an_unknown_book_id_is_an_error_for_the_whole_request(world: World) -> None:
    world.add(kobo_book())
    with pytest.raises(Exception, match="not in the Kobo database: nope"):
        world.service().plan(["nope"])


def test_a_long_lived_service_backs_up_again_once_its_backup_is_an_hour_old(world: World) -> None:
    world.add(
        kobo_book("A", read_status=1, when=KOBO_TIME), "/body/DocFragment[2]/body/span[9]", KOREADER_TIME
    )
    service = world.service()
    service.sync_all(NobodyToAsk())
    world.koreader.seed(
        Path("/device/.kobo/kepub/A"),
        {"last_xpointer": "/body/DocFragment[2]/body/span[10]", "summary": {"status": "reading"}},
        history_time=KOREADER_TIME.replace(hour=23),
    )
    world.clock.advance(30 * 60)
    service.sync_all(NobodyToAsk())
    assert len(world.kobo.writes) == 2 and len(world.kobo.backups) == 1
    world.koreader.seed(
        Path("/device/.kobo/kepub/A"),
        {"last_xpointer": "/body/DocFragment[2]/body/span[8]", "summary": {"status": "complete"}},
        history_time=KOREADER_TIME.replace(hour=23, minute=59),
    )
    world.clock.advance(31 * 60)
    service.sync_all(NobodyToAsk())
    assert len(world.kobo.writes) == 3 and len(world.kobo.backups) == 2


def test_an_unchanged_book_is_decided_from_the_ledger_without_reading_either_file(world: World) -> None:
    world.add(kobo_book(span="kobo.4.1", read_status=1, percent=65, when=KOBO_TIME))
    world.add(
        kobo_book("OTHER", read_status=1, percent=10, when=KOBO_TIME), "/body/DocFragment[1]/body/span[1]"
    )
    world.service().sync_all(NobodyToAsk())
    first = world.service().plan()
    reads, opened = world.koreader.reads, len(world.content.opened)
    again = world.service().plan()
    assert (world.koreader.reads, len(world.content.opened)) == (reads, opened)
    assert [(b.kobo, b.koreader, b.decision) for b in again.books] == [
        (b.kobo, b.koreader, b.decision) for b in first.books
    ]


def test_a_changed_sidecar_is_read_again(world: World) -> None:
    world.add(kobo_book(read_status=1, percent=10, when=KOBO_TIME), "/body/DocFragment[1]/body/span[1]")
    world.service().sync_all(NobodyToAsk())
    path = kobo_book().file_path
    world.koreader.sidecars[path]["last_xpointer"] = "/body/DocFragment[2]/body/span[5]"
    reads = world.koreader.reads
    (book,) = world.service().plan().books
    assert world.koreader.reads == reads + 1
    assert book.koreader is not None and book.koreader.progress > 0.5


def test_a_transfer_is_never_taken_from_the_ledger(world: World) -> None:
    """Remembered positions decide only skips: once a setting allows a pull, the files are read again."""
    world.add(kobo_book(span="kobo.4.1", read_status=1, percent=65, when=KOBO_TIME))
    # Another book is pushed, so the first run writes, and with it what it saw of every book.
    world.add(
        kobo_book("PUSHED", read_status=1, when=KOBO_TIME), "/body/DocFragment[2]/body/span[9]", KOREADER_TIME
    )
    world.service(sync_from_kobo_newer="never").sync_all(NobodyToAsk())
    assert world.ledger.seen_books
    reads = world.koreader.reads
    skipped = world.service(sync_from_kobo_newer="never").plan().books[0]
    assert world.koreader.reads == reads and skipped.decision.reason is Reason.POLICY_NEVER
    book = world.service().sync_all(NobodyToAsk()).books[0]
    assert world.koreader.reads > reads
    assert book.decision.transfer is Transfer.PULL and book.written
