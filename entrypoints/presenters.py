"""Reports as JSON documents (the CLI's ``--json`` and the plugin RPC share one shape)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from application.positions import is_syncable, unsyncable_reason
from application.records import KoboBook
from application.reports import BookReport, Question, RunReport
from domain.position import ReadingPosition


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def percent(position: ReadingPosition | None) -> float | None:
    return None if position is None else round(position.progress * 100, 2)


def _side_json(position: ReadingPosition | None, anchor: str) -> dict[str, Any]:
    """One side's position; ``anchor`` names the side's own precise place (Kobo span, KOReader xpointer)."""
    locator = position.locator if position else None
    place = None
    if locator is not None:
        place = locator.kobo_span if anchor == "span" else locator.xpointer
    return {
        "percent": percent(position),
        "status": position.status.value if position else "UNOPENED",
        "updated_at": iso(position.updated_at) if position else None,
        "chapter": locator.chapter_href if locator else None,
        anchor: place,
    }


def kobo_json(position: ReadingPosition | None) -> dict[str, Any]:
    return _side_json(position, "span")


def koreader_json(position: ReadingPosition | None) -> dict[str, Any]:
    return _side_json(position, "xpointer")


def question_json(question: Question) -> dict[str, Any]:
    return {
        "token": question.token,
        "book_id": question.book_id,
        "title": question.title,
        "direction": question.direction.value,
        "scenario": question.scenario.value,
        "kobo": kobo_json(question.kobo),
        "koreader": koreader_json(question.koreader),
        "text": question.text,
    }


def book_report_json(report: BookReport) -> dict[str, Any]:
    decision = report.decision
    return {
        "book_id": report.book_id,
        "title": report.title,
        "source": report.source.value,
        "kind": report.kind.value,
        "decision": decision.transfer.value,
        "reason": decision.reason.value if decision.reason else None,
        "scenario": decision.scenario.value if decision.scenario else None,
        "needs_confirmation": decision.needs_confirmation,
        "written": report.written,
        "error": report.error,
        "kobo": kobo_json(report.kobo),
        "koreader": koreader_json(report.koreader),
        "changes": list(report.changes),
        "notes": list(report.notes),
        "question": question_json(report.question) if report.question and not report.written else None,
        "annotations": report.annotations.as_dict() if report.annotations is not None else None,
    }


def run_report_json(
    report: RunReport, collect: Callable[[Iterator[dict[str, Any]]], Iterable[dict[str, Any]]] = list
) -> dict[str, Any]:
    """The report as JSON values; ``collect=iter`` leaves the books to be made as they are written."""
    return {
        "books": collect(book_report_json(book) for book in report.books),
        "summary": {
            "books": len(report.books),
            "pulled": report.pulled,
            "pushed": report.pushed,
            "skipped": report.skipped,
            "failed": report.failed,
        },
        "dry_run": report.dry_run,
        "backup": str(report.backup) if report.backup else None,
    }


def library_book_json(
    book: KoboBook, kobo: ReadingPosition | None, koreader: ReadingPosition | None
) -> dict[str, Any]:
    return {
        "book_id": book.book_id,
        "title": book.title,
        "author": book.author,
        "series": book.series,
        "series_number": book.series_number,
        "source": book.source.value,
        "kind": book.kind.value,
        "file_present": book.file_state.value != "missing",
        "readable": is_syncable(book),
        "not_syncable_reason": unsyncable_reason(book),
        "path": book.device_path,
        "kobo": kobo_json(kobo),
        "koreader": koreader_json(koreader),
    }
