"""The annotation use cases: list a book's highlights and notes, and sync them both ways.

Per book: read both sides, place every annotation in the book's text (``annotation_sides``),
merge against the ledger's last agreed set (``domain.annotation_merge``), then write Nickel's
rows (one transaction, after a verified backup once per run), the sidecar, and last the ledger,
so a failure anywhere leaves the previous agreement in place. Page bookmarks (Nickel's
dog-ears, KOReader's page marks) are listed but not synced: each reader's pages are its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from application.annotation_records import (
    AnnotationNotPlaced,
    KoboAnnotationChanges,
    KoboAnnotationEdit,
    KOReaderAnnotationChanges,
    KOReaderAnnotationEdit,
    NewKoboAnnotation,
    NewKOReaderAnnotation,
    UnplacedAnnotation,
)
from application.annotation_reports import AnnotationReport
from application.annotation_sides import (
    KOBO_COLOUR_OF,
    PlacedKobo,
    PlacedKOReader,
    PlacedSides,
    koreader_time_text,
    place_kobo_row,
    place_koreader_item,
    unplaced_kobo,
    unplaced_koreader,
)
from application.errors import BookContentError, KksyncError
from application.ports import (
    AnnotationLedger,
    AnnotationPlacer,
    Clock,
    KoboAnnotationStore,
    KoboLibrary,
    KOReaderAnnotationStore,
    PlacedDocument,
)
from application.records import BookKind, FileState, KoboBook
from domain.annotation import Annotation, AnnotationKey, AnnotationKind
from domain.annotation_merge import AnnotationMerge, merge_annotations

log = logging.getLogger(__name__)

DEFAULT_KOREADER_COLOUR = "yellow"
DEFAULT_KOREADER_DRAWER = "lighten"
SNIPPET = 60


@dataclass(frozen=True)
class ListedAnnotation:
    """One passage as both sides hold it (either may be None)."""

    kobo: Annotation | None
    koreader: Annotation | None
    chapter: str

    @property
    def annotation(self) -> Annotation:
        shown = self.kobo or self.koreader
        assert shown is not None
        return shown

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(side for side, held in (("kobo", self.kobo), ("koreader", self.koreader)) if held)


@dataclass(frozen=True)
class BookAnnotations:
    """A book's highlights and notes from both sides in reading order, and those not placed."""

    book: KoboBook
    annotations: tuple[ListedAnnotation, ...]
    unplaced: tuple[UnplacedAnnotation, ...]
    notes: tuple[str, ...] = ()


@dataclass
class _Plan:
    """One book's writes, built from a merge; annotations that could not be placed are left out."""

    kobo: KoboAnnotationChanges = field(default_factory=KoboAnnotationChanges)
    koreader: KOReaderAnnotationChanges = field(default_factory=KOReaderAnnotationChanges)
    agreed: list[Annotation] = field(default_factory=list)


class AnnotationSync:
    """Lists and syncs highlights and notes; one instance per run (CLI) or per daemon."""

    def __init__(
        self,
        kobo: KoboLibrary,
        kobo_annotations: KoboAnnotationStore,
        koreader_annotations: KOReaderAnnotationStore,
        placer: AnnotationPlacer,
        ledger: AnnotationLedger,
        clock: Clock,
    ) -> None:
        self.kobo = kobo
        self.kobo_annotations = kobo_annotations
        self.koreader_annotations = koreader_annotations
        self.placer = placer
        self.ledger = ledger
        self.clock = clock
        self.backup: Path | None = None

    # -- reading ---------------------------------------------------------------------------------

    def listing(self, book: KoboBook) -> BookAnnotations:
        """Both sides' annotations of one book, merged by passage, in reading order."""
        sides, document, notes = self._read(book, self.ledger.agreed_annotations(book.book_id))
        kobo = {placed.annotation.key: placed.annotation for placed in sides.kobo}
        koreader = {placed.annotation.key: placed.annotation for placed in sides.koreader}
        listed = tuple(
            ListedAnnotation(
                kobo.get(key),
                koreader.get(key),
                document.zip_path(key.range.start.spine_index) if document else "",
            )
            for key in sorted(kobo.keys() | koreader.keys())
        )
        return BookAnnotations(book, listed, tuple(sides.unplaced), tuple(notes))

    def _read(
        self, book: KoboBook, agreed: list[Annotation]
    ) -> tuple[PlacedSides, PlacedDocument | None, list[str]]:
        rows = self.kobo_annotations.annotations(book.book_id)
        stored = self.koreader_annotations.annotations(book.file_path)
        sides = PlacedSides(koreader_sidecar=stored.sidecar, koreader_legacy=stored.legacy)
        notes: list[str] = []
        if stored.legacy:
            notes.append("KOReader's highlights are in its pre-2024 format: read only")
        if not (rows or stored.items or agreed):
            return sides, None, notes  # nothing to place: the book file is not even opened
        document, reason = self._document(book)
        agreed_by_key = {annotation.key: annotation for annotation in agreed}
        for row in rows:
            try:
                if document is None:
                    raise AnnotationNotPlaced(reason)
                sides.kobo.append(PlacedKobo(place_kobo_row(row, document, agreed_by_key), row))
            except AnnotationNotPlaced as error:
                sides.unplaced.append(unplaced_kobo(row, str(error)))
        for item in stored.items:
            try:
                if document is None:
                    raise AnnotationNotPlaced(reason)
                sides.koreader.append(PlacedKOReader(place_koreader_item(item, document), item))
            except AnnotationNotPlaced as error:
                sides.unplaced.append(unplaced_koreader(item, str(error)))
        return sides, document, notes

    def _document(self, book: KoboBook) -> tuple[PlacedDocument | None, str]:
        if book.kind is not BookKind.KEPUB:
            return None, f"a {book.kind.value} book: positions are not kepub spans, listed only"
        if book.file_state is not FileState.READABLE:
            return None, f"the book file is {book.file_state.value}"
        try:
            document = self.placer.open(book.file_path)
        except BookContentError as error:
            return None, str(error)
        if not document.has_spans:
            return None, "the book file has no koboSpans"
        return document, ""

    # -- syncing ---------------------------------------------------------------------------------

    def sync(
        self, book: KoboBook, *, dry_run: bool, before_kobo_write: Callable[[], None] | None = None
    ) -> AnnotationReport:
        """Merge and (unless ``dry_run``) write one book's annotations; never raises for the book.

        ``before_kobo_write`` runs before the first write to Nickel's database (the sync
        service's writable check and once-per-run backup); without it this class backs up itself.
        """
        report = AnnotationReport()
        try:
            self._sync(book, report, dry_run=dry_run, before_kobo_write=before_kobo_write or self._backup)
        except Exception as error:  # one book's annotations never stop the run
            if not isinstance(error, KksyncError | OSError):
                log.exception("unexpected error on the annotations of %s", book.book_id)
            report.error = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning("%s: annotations not synced: %s", book.book_id, report.error)
        return report

    def _backup(self) -> None:
        if self.backup is None:
            self.kobo.ensure_writable()
            self.backup = self.kobo.backup()

    def _sync(
        self,
        book: KoboBook,
        report: AnnotationReport,
        *,
        dry_run: bool,
        before_kobo_write: Callable[[], None],
    ) -> None:
        agreed = self.ledger.agreed_annotations(book.book_id)
        sides, document, notes = self._read(book, agreed)
        report.notes.extend(notes)
        report.unplaced = [_unplaced_line(u) for u in sides.unplaced]
        if document is None:
            if sides.kobo or sides.koreader or sides.unplaced:
                report.notes.append("annotations not synced: " + (report.unplaced[0].split(": ", 1)[-1]))
            return
        merge = merge_annotations(
            _passages(a.annotation for a in sides.kobo),
            _passages(a.annotation for a in sides.koreader),
            _passages(agreed),
            kobo_complete=sides.kobo_complete,
            koreader_complete=sides.koreader_complete,
        )
        plan = self._plan(book, merge, sides, document, report)
        refusal = (
            None if plan.koreader.is_empty else self.koreader_annotations.writable_reason(book.file_path)
        )
        if refusal is not None:
            report.withdraw(f"annotations not synced: {refusal}")
            return
        for duplicate in merge.duplicates:
            report.notes.append(
                f"a second annotation on the same passage is left alone: {_snippet(duplicate)}"
            )
        report.conflicts = [_conflict_line(outcome.agreed, outcome.rule.name) for outcome in merge.conflicts]
        if dry_run:
            return
        self._write(book, plan, report, before_kobo_write)

    def _plan(
        self,
        book: KoboBook,
        merge: AnnotationMerge,
        sides: PlacedSides,
        document: PlacedDocument,
        report: AnnotationReport,
    ) -> _Plan:
        now = self.clock.now()
        touches_kobo = bool(merge.to_add("kobo") or merge.to_update("kobo"))
        chapters = self.kobo_annotations.chapter_ids(book.book_id) if touches_kobo else {}
        colours = touches_kobo and self.kobo_annotations.has_colours()
        not_written: set[AnnotationKey] = set()
        kobo_added, kobo_edited, kobo_deleted = [], [], []
        for annotation in merge.to_add("kobo"):
            try:
                kobo_added.append(_new_kobo_row(annotation, document, chapters, colours, now))
            except AnnotationNotPlaced as error:
                not_written.add(annotation.key)
                report.unplaced.append(f"not added to Kobo: {_snippet(annotation)}: {error}")
                continue
            report.added_to_kobo += 1
            report.changes.append(f"Kobo + {_snippet(annotation)}")
        for annotation in merge.to_update("kobo"):
            row = sides.kobo_row(annotation.key)
            assert row is not None
            colour = KOBO_COLOUR_OF.get(annotation.color or "") if colours else None
            kind = "note" if annotation.note else "highlight"
            kobo_edited.append(
                KoboAnnotationEdit(row.bookmark_id, kind, annotation.note, colour, annotation.modified or now)
            )
            report.changed_on_kobo += 1
            report.changes.append(f"Kobo ~ {_snippet(annotation)}")
        for key in merge.to_delete("kobo"):
            row = sides.kobo_row(key)
            assert row is not None
            kobo_deleted.append(row.bookmark_id)
            report.deleted_from_kobo += 1
            report.changes.append(f"Kobo - {_snippet_text(row.text)}")
        koreader_added, koreader_edited, koreader_deleted = [], [], []
        for annotation in merge.to_add("koreader"):
            try:
                koreader_added.append(_new_koreader_item(annotation, document, now))
            except AnnotationNotPlaced as error:
                not_written.add(annotation.key)
                report.unplaced.append(f"not added to KOReader: {_snippet(annotation)}: {error}")
                continue
            report.added_to_koreader += 1
            report.changes.append(f"KOReader + {_snippet(annotation)}")
        for annotation in merge.to_update("koreader"):
            item = sides.koreader_item(annotation.key)
            assert item is not None and item.pos0 is not None and item.pos1 is not None
            koreader_edited.append(
                KOReaderAnnotationEdit(
                    item.pos0,
                    item.pos1,
                    annotation.note,
                    annotation.color,
                    koreader_time_text(annotation.modified or now),
                )
            )
            report.changed_on_koreader += 1
            report.changes.append(f"KOReader ~ {_snippet(annotation)}")
        for key in merge.to_delete("koreader"):
            item = sides.koreader_item(key)
            assert item is not None and item.pos0 is not None and item.pos1 is not None
            koreader_deleted.append((item.pos0, item.pos1))
            report.deleted_from_koreader += 1
            report.changes.append(f"KOReader - {_snippet_text(item.text)}")
        return _Plan(
            KoboAnnotationChanges(tuple(kobo_added), tuple(kobo_edited), tuple(kobo_deleted)),
            KOReaderAnnotationChanges(tuple(koreader_added), tuple(koreader_edited), tuple(koreader_deleted)),
            [annotation for annotation in merge.agreed if annotation.key not in not_written],
        )

    def _write(
        self, book: KoboBook, plan: _Plan, report: AnnotationReport, before_kobo_write: Callable[[], None]
    ) -> None:
        if not plan.kobo.is_empty:
            before_kobo_write()
            self.kobo_annotations.apply(book.book_id, plan.kobo)
            report.written = True
        if not plan.koreader.is_empty:
            self.koreader_annotations.apply(book.file_path, plan.koreader)
            report.written = True
        previous = self.ledger.agreed_annotations(book.book_id)
        if _fingerprint(previous) != _fingerprint(plan.agreed):
            self.ledger.record_annotations(book.book_id, plan.agreed)


def _passages(annotations: Iterable[Annotation]) -> list[Annotation]:
    """Highlights and notes only: page bookmarks are listed, never synced."""
    return [a for a in annotations if a.kind is not AnnotationKind.BOOKMARK]


def _new_kobo_row(
    annotation: Annotation,
    document: PlacedDocument,
    chapters: dict[str, str],
    colours: bool,
    now: datetime,
) -> NewKoboAnnotation:
    placed = document.to_kobo(annotation.range)
    content_id = chapters.get(placed.zip_path)
    if content_id is None:
        raise AnnotationNotPlaced(f"Nickel has no chapter row for {placed.zip_path} to draw it on")
    return NewKoboAnnotation(
        bookmark_id=str(uuid.uuid4()),
        content_id=content_id,
        start_span=placed.start_span,
        start_offset=placed.start_offset,
        end_span=placed.end_span,
        end_offset=placed.end_offset,
        kind="note" if annotation.note else "highlight",
        text=annotation.text or document.text(annotation.range),
        note=annotation.note,
        color=KOBO_COLOUR_OF.get(annotation.color or "") if colours else None,
        chapter_progress=placed.chapter_progress,
        created=annotation.created or now,
        modified=annotation.last_change or now,
    )


def _new_koreader_item(
    annotation: Annotation, document: PlacedDocument, now: datetime
) -> NewKOReaderAnnotation:
    pointers = document.to_koreader(annotation.range)
    return NewKOReaderAnnotation(
        pos0=pointers.pos0,
        pos1=pointers.pos1,
        text=annotation.text or document.text(annotation.range),
        note=annotation.note,
        color=annotation.color or DEFAULT_KOREADER_COLOUR,
        drawer=DEFAULT_KOREADER_DRAWER,
        datetime=koreader_time_text(annotation.created or now),
        datetime_updated=koreader_time_text(annotation.modified) if annotation.modified else None,
    )


def _fingerprint(annotations: list[Annotation]) -> list[tuple[object, ...]]:
    return sorted((a.key, a.note, a.color) for a in annotations)


def _snippet_text(text: str) -> str:
    flat = " ".join(text.split())
    return f'"{flat[:SNIPPET]}…"' if len(flat) > SNIPPET else f'"{flat}"'


def _snippet(annotation: Annotation) -> str:
    line = _snippet_text(annotation.text)
    return f"{line} (note: {_snippet_text(annotation.note)})" if annotation.note else line


def _conflict_line(annotation: Annotation | None, rule: str) -> str:
    return f"{rule}: {_snippet(annotation)}" if annotation else rule


def _unplaced_line(unplaced: UnplacedAnnotation) -> str:
    side = "Kobo" if unplaced.side == "kobo" else "KOReader"
    return f"{side} {_snippet_text(unplaced.text)}: {unplaced.reason}"
