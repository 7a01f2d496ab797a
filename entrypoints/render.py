"""Rich tables and lines for people (the JSON shape lives in ``presenters``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.table import Table

from application.reports import BookReport, RunReport
from domain.decision import Transfer
from domain.position import ReadingPosition
from entrypoints.presenters import iso

STATUS_WORDS = {"UNOPENED": "unread", "READING": "reading", "FINISHED": "finished", "ABANDONED": "on hold"}
ARROWS = {Transfer.PULL: "Kobo → KOReader", Transfer.PUSH: "KOReader → Kobo"}


def side(position: ReadingPosition | None) -> str:
    if position is None:
        return "—"
    when = iso(position.updated_at) or "no time"
    status = STATUS_WORDS[position.status.value]
    return f"{position.progress * 100:.1f} % {status}\n[dim]{when.replace('T', ' ').rstrip('Z')}[/dim]"


def decision_text(report: BookReport, dry_run: bool) -> str:
    decision = report.decision
    if report.error:
        return "[red]failed[/red]"
    if decision.transfer is Transfer.SKIP:
        reason = decision.reason.value.lower().replace("_", " ") if decision.reason else "skip"
        return f"[dim]{reason}[/dim]"
    arrow = ARROWS[decision.transfer]
    if report.written:
        return f"[green]{arrow}[/green]"
    if report.question is not None:
        return f"[yellow]{arrow}?[/yellow]"
    return f"[cyan]{arrow}[/cyan]" + (" (planned)" if dry_run else "")


def report_table(report: RunReport, title: str) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("Book", overflow="fold", max_width=40)
    table.add_column("Kobo")
    table.add_column("KOReader")
    table.add_column("Decision")
    for book in report.books:
        table.add_row(book.title, side(book.kobo), side(book.koreader), decision_text(book, report.dry_run))
    return table


def summary_line(report: RunReport) -> str:
    verb = "would be " if report.dry_run else ""
    parts = [
        f"{len(report.books)} books",
        f"{report.pulled} {verb}pulled",
        f"{report.pushed} {verb}pushed",
        f"{report.skipped} skipped",
        f"{report.failed} failed",
    ]
    line = ", ".join(parts)
    if report.backup is not None:
        line += f"; backup: {report.backup}"
    return line


def details(report: RunReport) -> Iterator[str]:
    """Errors, pending questions and what was (or would be) written, one line each."""
    for book in report.books:
        if book.error:
            yield f"error: {book.title}: {book.error}"
        if book.question is not None and not book.written and not report.dry_run:
            yield f"waiting: {book.title}: needs confirmation (run with --interactive or --yes)"
        if book.decision.transfer is not Transfer.SKIP and (book.written or report.dry_run):
            for change in book.changes:
                yield f"  {book.title}: {change}"
        for note in book.notes:
            yield f"  note: {book.title}: {note}"


def library_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Kobo library")
    for column in ("Title", "Author", "Source", "Kind", "File", "Kobo", "KOReader"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["title"] or row["book_id"],
            row["author"] or "",
            row["source"],
            row["kind"],
            "yes" if row["readable"] else ("present" if row["file_present"] else "missing"),
            _percent(row["kobo"]),
            _percent(row["koreader"]),
        )
    return table


def _percent(side_json: dict[str, Any]) -> str:
    if side_json["percent"] is None:
        return "—"
    return f"{side_json['percent']:.1f} % {STATUS_WORDS[side_json['status']]}"
