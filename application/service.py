"""The use cases: plan, status, sync one book or all, answer a prompt.

Per book: read both sides, decide (domain), and if a transfer is due, write the one side it
targets, re-read, and record what both sides now agree on in the ledger. A push writes the Kobo
database only (after a verified backup, once per run); a pull writes the KOReader sidecar only;
the ledger is written last, so a failure anywhere leaves the previous agreement in place.

A book whose inputs (its Nickel row and chapter rows, its file's stamp, KOReader's fingerprint of
its sidecars and history) hash to what the ledger saw last time reuses the positions read then:
no Lua parsing, no EPUB opening. Any difference, or any input too fresh to trust, takes the full
path (docs/performance.md, "Exact no-op").
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from application.annotations import AnnotationSync
from application.errors import (
    BookContentError,
    KksyncError,
    KoboDatabaseLocked,
    ReadOnlyDatabase,
    StaleQuestion,
)
from application.messages import read_only_device
from application.ports import BookContent, Clock, KoboLibrary, KOReaderLibrary, Ledger, Prompter
from application.positions import BookFile, is_syncable, kobo_position, koreader_position, unsyncable_reason
from application.records import FileCheck, KoboBook, SeenBook
from application.reports import BookReport, Question, RunReport
from application.settings import Settings
from application.transfers import Planned, pull_write, push_write
from domain.decision import AgreedState, ConflictDecision, Reason, Transfer, decide
from domain.equivalence import unchanged
from domain.position import ReadingPosition

log = logging.getLogger(__name__)

BookCallback = Callable[[BookReport], None]
BooksCallback = Callable[[list[KoboBook]], None]

StartCallback = Callable[[int], None]
"""Told the number of books a run is about to go through, once it has read the library."""

SEEN_FORMAT = "kksync-seen-2"
"""Part of every seen-book key: change it whenever reading a position changes, so old entries miss."""

FEW_BOOKS = 16
"""Up to this many named books are read one by one (a few queries each) instead of the whole library."""

BACKUP_REUSE = timedelta(hours=1)
"""A long-lived service (the daemon) backs up again before writing once its backup is this old;
a command-line run is one service, so it backs up before its first write every time."""


LOCKED_EARLIER = (
    "not written: the Kobo database stayed locked earlier in this run (is Nickel busy?), "
    "so kksync did not wait again; sync again when the Kobo is idle"
)


class NobodyToAsk:
    """The prompter of batch runs: PROMPT decisions are skipped and reported."""

    def confirm(self, question: Question) -> bool | None:
        return None


class AlwaysYes:
    """The prompter behind ``--yes``."""

    def confirm(self, question: Question) -> bool | None:
        return True


@dataclass
class Assessment:
    """Everything known about one book at one moment, and what the domain decided."""

    book: KoboBook
    file: BookFile
    kobo: ReadingPosition
    koreader: ReadingPosition | None
    ledger: AgreedState | None
    decision: ConflictDecision
    seen: SeenBook | None = None
    """The positions with the digest of their inputs, when those inputs could be trusted."""
    reused: bool = False
    """Whether the positions came from the ledger's seen entry rather than from the files."""

    @property
    def token(self) -> str:
        """Changes whenever either side or the decision changes, so stale answers are refused."""
        state = repr((self.book.book_id, self.decision.transfer, self.kobo, self.koreader))
        return hashlib.sha256(state.encode()).hexdigest()[:24]


class SyncService:
    """The application: one instance per run (CLI) or per daemon."""

    def __init__(
        self,
        kobo: KoboLibrary,
        koreader: KOReaderLibrary,
        content: BookContent,
        ledger: Ledger,
        clock: Clock,
        settings: Settings,
        annotations: AnnotationSync | None = None,
    ) -> None:
        self.kobo = kobo
        self.annotations = annotations
        self.koreader = koreader
        self.content = content
        self.ledger = ledger
        self.clock = clock
        self.settings = settings
        self.open_books: set[str] = set()
        self.backup: Path | None = None
        self._backup_at: datetime | None = None
        self._kobo_failure: str | None = None
        self._questions: dict[str, str] = {}
        self._declined: dict[str, str] = {}
        self._agreed_pending: dict[str, AgreedState] = {}
        self._seen: dict[str, SeenBook] = {}
        self._seen_loaded = False
        self._checks: dict[str, FileCheck] = {}
        self._seen_pending: dict[str, SeenBook] = {}
        self._highlights: dict[str, str] | None = {}
        """Per book, the digest of Nickel's highlight rows this run (None: could not be read)."""
        self._reused: set[str] = set()
        """Books whose positions came from their seen entry this run: nothing of theirs changed."""

    # -- use cases ---------------------------------------------------------------------------

    def library(self) -> list[KoboBook]:
        return self.kobo.books()

    def plan(
        self,
        book_ids: Iterable[str] | None = None,
        on_book: BookCallback | None = None,
        on_start: StartCallback | None = None,
        before_books: BooksCallback | None = None,
    ) -> RunReport:
        """What a sync would do, writing nothing at all (no backup, no ledger).

        ``before_books`` is handed the books the run read, so a caller that also lists them
        (``kksync books``, the daemon's library memory) needs no second read of the library.
        """
        return self._run(
            book_ids,
            NobodyToAsk(),
            dry_run=True,
            on_book=on_book,
            on_start=on_start,
            before_books=before_books,
        )

    status = plan

    def sync_all(
        self,
        prompter: Prompter,
        book_ids: Iterable[str] | None = None,
        on_book: BookCallback | None = None,
        on_start: StartCallback | None = None,
        before_books: BooksCallback | None = None,
    ) -> RunReport:
        """Sync; ``before_books`` sees the run's books once read, before any is synced (e.g. to
        tidy up after an interrupted run without reading the library twice)."""
        return self._run(
            book_ids, prompter, dry_run=False, on_book=on_book, on_start=on_start, before_books=before_books
        )

    def check_writable(self) -> None:
        """Refuse a whole sync up front when the Kobo cannot be written (mounted read-only, say).

        Without this every book would fail on its own, even those already in sync (their ledger
        entry cannot be written), and the person would read a list of failures instead of the one
        thing to fix.
        """
        try:
            self.kobo.ensure_writable()
        except ReadOnlyDatabase as error:
            raise ReadOnlyDatabase(read_only_device(_one_line(error))) from None

    def sync_book(self, book_id: str, prompter: Prompter) -> BookReport:
        return self.sync_all(prompter, [book_id]).books[0]

    def answer(self, token: str, accept: bool) -> BookReport:
        """Apply or decline a question asked earlier, if nothing changed since."""
        book_id = self._questions.get(token)
        if book_id is None:
            raise StaleQuestion("this question is unknown or was already answered; sync again")
        ledger = self.ledger.get(book_id)
        book = self.kobo.book(book_id)
        if book is None:
            raise StaleQuestion(f"{book_id} is no longer in the Kobo database")
        assessment = self._assess(book, ledger)
        if assessment.token != token:
            raise StaleQuestion(f"{book.title or book_id}: the book changed since the question; sync again")
        del self._questions[token]
        self._declined = self.ledger.declined()
        return self._process(assessment, _Fixed(accept), dry_run=False)

    def book_for_path(self, device_path: str) -> KoboBook | None:
        """The book KOReader opened at this on-device path."""
        return next((b for b in self.kobo.books() if b.device_path == device_path), None)

    # -- one run ------------------------------------------------------------------------------

    def _run(
        self,
        book_ids: Iterable[str] | None,
        prompter: Prompter,
        *,
        dry_run: bool,
        on_book: BookCallback | None,
        on_start: StartCallback | None = None,
        before_books: BooksCallback | None = None,
    ) -> RunReport:
        if self._seen_loaded is False:
            # Loaded once per service: an entry is keyed by every input of its positions, so one
            # written meanwhile by another run can only be missed here, never be wrong.
            self._seen, self._seen_loaded = self.ledger.seen(), True
        wanted = None if book_ids is None else list(dict.fromkeys(book_ids))
        books = self._read(wanted)
        self._checks = self.kobo.file_checks()
        if wanted is not None:
            by_id = {book.book_id: book for book in books}
            missing = [book_id for book_id in wanted if book_id not in by_id]
            if missing:
                raise KksyncError(f"not in the Kobo database: {', '.join(missing)}")
            books = [by_id[book_id] for book_id in wanted]
        if before_books is not None:
            before_books(books)
        if wanted is not None and len(wanted) <= FEW_BOOKS:
            agreed = {book.book_id: state for book in books if (state := self.ledger.get(book.book_id))}
        else:
            agreed = self.ledger.all()
        self._declined = self.ledger.declined()
        self._kobo_failure = None  # a new run tries the Kobo database afresh
        self._highlights = self._highlight_digests()
        self._reused = set()
        if on_start is not None:
            on_start(len(books))
        reports = []
        try:
            for book in books:
                report = self._safely(book, agreed.get(book.book_id), prompter, dry_run)
                report = self._with_annotations(book, report, dry_run)
                reports.append(report)
                if on_book is not None:
                    on_book(report)
        finally:
            self._flush(dry_run)
        questions = tuple(r.question for r in reports if r.question is not None and not r.written)
        return RunReport(tuple(reports), dry_run=dry_run, backup=self.backup, questions=questions)

    def _read(self, wanted: list[str] | None) -> list[KoboBook]:
        """The library (one read, reusing known file checks), or just a few wanted books, one by one."""
        if wanted is not None and len(wanted) <= FEW_BOOKS:
            found = (self.kobo.book(book_id) for book_id in wanted)
            return [book for book in found if book is not None]
        known = {book_id: seen.file_check for book_id, seen in self._seen.items() if seen.file_check}
        return self.kobo.books(known)

    def _safely(
        self, book: KoboBook, ledger: AgreedState | None, prompter: Prompter, dry_run: bool
    ) -> BookReport:
        """One book; whatever goes wrong is reported for this book and the run goes on."""
        assessment: Assessment | None = None
        try:
            assessment = self._assess(book, ledger)
            return self._process(assessment, prompter, dry_run)
        except BookContentError as error:
            if assessment is None:  # a chapter unreadable while reading positions: not syncable
                return _unreadable_book(book, _one_line(error))
            return _failed(book, assessment, _one_line(error))
        except Exception as error:  # one bad book never stops the run
            if not isinstance(error, KksyncError | OSError):
                log.exception("unexpected error on %s", book.book_id)
            return _failed(book, assessment, _one_line(error))

    def _with_annotations(self, book: KoboBook, report: BookReport, dry_run: bool) -> BookReport:
        """Highlights and notes follow progress (docs/annotations.md), unless switched off."""
        if self.annotations is None or not self.settings.sync_annotations or report.failed:
            return report
        if not is_syncable(book) or book.book_id in self.open_books:
            return report
        if book.book_id in self._reused:
            return report  # both sides' highlights and the progress are as when they last agreed
        outcome = self.annotations.sync(book, dry_run=dry_run, before_kobo_write=self._prepare_kobo_writes)
        if outcome.error is not None:
            self._seen_pending.pop(book.book_id, None)  # unsettled: the next run must look again
        return replace(report, annotations=outcome)

    def _highlight_digests(self) -> dict[str, str] | None:
        """Nickel's highlight rows per book (one query), part of every seen key when they are synced."""
        if self.annotations is None or not self.settings.sync_annotations:
            return {}
        try:
            return self.annotations.kobo_annotations.revisions()
        except KksyncError as error:
            log.info("highlights not read up front (%s): every book is read in full", _one_line(error))
            return None

    def _assess(self, book: KoboBook, ledger: AgreedState | None) -> Assessment:
        file = BookFile(book, lambda b: self.content.open(b.file_path))
        syncable = is_syncable(book)
        if not syncable:
            file.notes.append(f"not syncable: {unsyncable_reason(book)}")
        key = self._seen_key(book, syncable)
        seen = self._seen.get(book.book_id)
        if key is not None and seen is not None and seen.key == key:
            file.notes.extend(note for note in seen.notes if note not in file.notes)
            decision = decide(seen.kobo, seen.koreader, ledger, self.settings.policy(), syncable=syncable)
            if decision.transfer is Transfer.SKIP:  # a transfer needs the book file: full path
                self._reused.add(book.book_id)
                return Assessment(book, file, seen.kobo, seen.koreader, ledger, decision, seen, reused=True)
            file = BookFile(book, file.opener)
        kobo = kobo_position(book, file)
        koreader = koreader_position(self.koreader.read(book.file_path), file) if syncable else None
        decision = decide(kobo, koreader, ledger, self.settings.policy(), syncable=syncable)
        fresh = self._seen_entry(book, key, kobo, koreader, file)
        return Assessment(book, file, kobo, koreader, ledger, decision, fresh)

    def _seen_key(self, book: KoboBook, syncable: bool) -> str | None:
        """The digest of every input of this book's positions; None when one is too fresh to trust.

        The KOReader fingerprint is taken *before* the sidecar is read, so a change racing the read
        can only make the stored key older than the state (a needless full path next time), never
        newer (a missed change).
        """
        if book.file_stamp is not None and not book.file_stamp.settled:
            return None
        if self._highlights is None:
            return None
        highlights = (self.settings.sync_annotations, self._highlights.get(book.book_id, ""))
        koreader = self.koreader.fingerprint(book.file_path) if syncable else ""
        inputs = repr((SEEN_FORMAT, _book_inputs(book), koreader, highlights)).encode(
            "utf-8", "surrogateescape"
        )
        return hashlib.blake2b(inputs, digest_size=20).hexdigest()

    def _seen_entry(
        self,
        book: KoboBook,
        key: str | None,
        kobo: ReadingPosition,
        koreader: ReadingPosition | None,
        file: BookFile,
    ) -> SeenBook | None:
        if key is None:
            return None
        check = self._checks.get(book.book_id) if book.file_stamp is not None else None
        if check is not None and check.stamp != book.file_stamp:
            check = None
        return SeenBook(key, kobo, koreader, tuple(file.notes), check)

    def _note_seen(self, assessment: Assessment) -> None:
        """Keep a freshly read book's seen entry for the end of the run (stored only when it differs)."""
        fresh = assessment.seen
        if fresh is None or assessment.reused:
            return
        if self._seen.get(assessment.book.book_id) != fresh:
            self._seen_pending[assessment.book.book_id] = fresh

    def _flush(self, dry_run: bool) -> None:
        """Store the run's in-sync agreements and seen books in one transaction (never in a dry run)."""
        agreed, seen = self._agreed_pending, self._seen_pending
        self._agreed_pending, self._seen_pending = {}, {}
        if dry_run or not self.settings.sync_reading_state:  # switched off: nothing is written at all
            return
        if not agreed and not seen:
            return  # nothing new: a second sync with nothing to do writes nothing, ledger included
        try:
            self.ledger.record_batch(agreed, seen)
        except Exception as error:  # the reports stand: both sides were in sync and nothing was written
            log.error("kksync: could not update the sync ledger: %s", _one_line(error))
            return
        self._seen.update(seen)

    def _process(self, assessment: Assessment, prompter: Prompter, dry_run: bool) -> BookReport:
        decision = assessment.decision
        if not dry_run:
            self._note_seen(assessment)
        if decision.transfer is Transfer.SKIP:
            if decision.reason is Reason.IN_SYNC and not dry_run:
                self._remember(assessment)
            return _report(assessment)
        if assessment.book.book_id in self.open_books:
            return _report(assessment, notes=("open in KOReader: left alone until it is closed",))
        if decision.needs_confirmation and self._declined.get(assessment.book.book_id) == assessment.token:
            return self._decline(assessment, remember=False)
        planned = self._planned(assessment)
        question = self._question(assessment) if decision.needs_confirmation else None
        if dry_run:
            return _report(assessment, planned, question=question)
        if question is not None:
            answer = prompter.confirm(question)
            if answer is None:
                return _report(assessment, planned, question=question, notes=("waiting for an answer",))
            self._questions.pop(question.token, None)
            if not answer:
                return self._decline(assessment, remember=True)
        self._apply(assessment)
        return _report(assessment, planned, written=True)

    def _decline(self, assessment: Assessment, *, remember: bool) -> BookReport:
        """A "no" is kept (outside the agreement) so the same question is not asked again."""
        if remember:
            self.ledger.decline(assessment.book.book_id, assessment.token)
            self._declined[assessment.book.book_id] = assessment.token
        note = "declined; asked again once either side changes"
        return _report(replace(assessment, decision=assessment.decision.declined()), notes=(note,))

    def _planned(self, assessment: Assessment) -> Planned:
        position = assessment.decision.position
        assert position is not None
        now = self.clock.now()
        if assessment.decision.transfer is Transfer.PUSH:
            return push_write(position, assessment.file, now)[1]
        return pull_write(position, assessment.file, now)[1]

    def _question(self, assessment: Assessment) -> Question:
        decision = assessment.decision
        assert decision.direction is not None and decision.scenario is not None
        question = Question(
            token=assessment.token,
            book_id=assessment.book.book_id,
            title=assessment.book.title or assessment.book.book_id,
            direction=decision.direction,
            scenario=decision.scenario,
            kobo=assessment.kobo,
            koreader=assessment.koreader,
        )
        self._questions[question.token] = assessment.book.book_id
        return question

    def _apply(self, assessment: Assessment) -> None:
        """Write the target side, re-read both sides, then record the agreement."""
        book, decision = assessment.book, assessment.decision
        position = decision.position
        assert position is not None
        now = self.clock.now()
        if decision.transfer is Transfer.PUSH:
            self._prepare_kobo_writes()
            try:
                self.kobo.write(book.book_id, push_write(position, assessment.file, now)[0])
            except KoboDatabaseLocked:  # waited once: the other pushes of this run do not wait again
                self._kobo_failure = LOCKED_EARLIER
                raise
            book = self.kobo.book(book.book_id) or book
        else:
            self.koreader.write(book.file_path, pull_write(position, assessment.file, now)[0])
        after = self._assess_again(book, assessment)
        self.ledger.record(book.book_id, AgreedState(after.kobo, after.koreader))
        self._seen_pending.pop(book.book_id, None)
        if after.seen is not None:
            self._seen_pending[book.book_id] = after.seen

    def _assess_again(self, book: KoboBook, before: Assessment) -> Assessment:
        """Re-read both sides after a write, reusing the already parsed book file."""
        file = replace(before.file, book=book, notes=[])
        key = self._seen_key(book, syncable=True)
        kobo = kobo_position(book, file)
        koreader = koreader_position(self.koreader.read(book.file_path), file)
        seen = self._seen_entry(book, key, kobo, koreader, file)
        file.notes[:0] = before.file.notes
        return replace(before, book=book, file=file, kobo=kobo, koreader=koreader, seen=seen, reused=False)

    def _prepare_kobo_writes(self) -> None:
        """Before the first Kobo write of a run: writable, and a verified backup exists."""
        if self._kobo_failure is not None:
            raise KksyncError(self._kobo_failure)
        now = self.clock.now()
        if self._backup_at is not None and now - self._backup_at < BACKUP_REUSE:
            return
        try:
            self.kobo.ensure_writable()
            self.backup, self._backup_at = self.kobo.backup(), now
        except KksyncError as error:
            self._kobo_failure = f"nothing written to the Kobo database: {_one_line(error)}"
            raise KksyncError(self._kobo_failure) from error

    def _remember(self, assessment: Assessment) -> None:
        """Keep the ledger current for books already in sync (a write only when it differs)."""
        ledger = assessment.ledger
        if (
            ledger is not None
            and unchanged(assessment.kobo, ledger.kobo)
            and unchanged(assessment.koreader, ledger.koreader)
        ):
            return
        self._agreed_pending[assessment.book.book_id] = AgreedState(assessment.kobo, assessment.koreader)


class _Fixed:
    def __init__(self, answer: bool) -> None:
        self.answer = answer

    def confirm(self, question: Question) -> bool | None:
        return self.answer


def _report(
    assessment: Assessment,
    planned: Planned | None = None,
    *,
    written: bool = False,
    question: Question | None = None,
    notes: tuple[str, ...] = (),
) -> BookReport:
    book = assessment.book
    all_notes = tuple(assessment.file.notes) + (planned.notes if planned else ()) + notes
    return BookReport(
        book_id=book.book_id,
        title=book.title or book.book_id,
        source=book.source,
        kind=book.kind,
        decision=assessment.decision,
        kobo=assessment.kobo,
        koreader=assessment.koreader,
        written=written,
        notes=tuple(dict.fromkeys(all_notes)),
        changes=planned.changes if planned else (),
        question=question,
        kobo_percent_read=book.percent_read,
    )


def _unreadable_book(book: KoboBook, message: str) -> BookReport:
    """A book whose file turned out unreadable while it was being read: not syncable, with why."""
    return BookReport(
        book_id=book.book_id,
        title=book.title or book.book_id,
        source=book.source,
        kind=book.kind,
        decision=ConflictDecision(Transfer.SKIP, Reason.NOT_SYNCABLE),
        notes=(f"not syncable: {message}",),
    )


def _failed(book: KoboBook, assessment: Assessment | None, message: str) -> BookReport:
    decision = assessment.decision if assessment else ConflictDecision(Transfer.SKIP)
    return BookReport(
        book_id=book.book_id,
        title=book.title or book.book_id,
        source=book.source,
        kind=book.kind,
        decision=decision,
        kobo=assessment.kobo if assessment else None,
        koreader=assessment.koreader if assessment else None,
        error=message,
        kobo_percent_read=book.percent_read,
    )


def _book_inputs(book: KoboBook) -> tuple[object, ...]:
    """Every field of the book row as plain values, and its chapter rows as read (never converted)."""
    fields = tuple(getattr(book, name) for name in _BOOK_FIELDS)
    return (*fields, book.chapter_source())


_BOOK_FIELDS = tuple(name for name in KoboBook.__dataclass_fields__ if name != "chapters")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
