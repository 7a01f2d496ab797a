"""Rich tables and lines for people (the JSON shape lives in ``presenters``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.markup import escape
from rich.table import Table

from application.reports import BookReport, RunReport
from domain.decision import Transfer
from domain.position import ReadingPosition
from entrypoints.presenters import iso

STATUS_WORDS = {"UNOPENED": "unread", "READING": "reading", "FINISHED": "finished", "ABANDONED": "on hold"}
NOT_SYNCABLE_NOTE = "not syncable: "
ARROWS = {Transfer.PULL: "Kobo → KOReader", Transfer.PUSH: "KOReader → Kobo"}


def percent_text(percent: float) -> str:
    """One decimal, rounded the same way in every table (``books`` and ``status`` agree)."""
    return f"{round(percent, 1):.1f} %"


def side(position: ReadingPosition | None, koreader: bool = False) -> str:
    """Percent and status, the time, and where: the chapter file and the side's own anchor."""
    if position is None:
        return "—"
    when = iso(position.updated_at) or "no time"
    status = STATUS_WORDS[position.status.value]
    time_text = when.replace("T", " ").rstrip("Z")
    lines = [f"{percent_text(position.progress * 100)} {status}", f"[dim]{time_text}"]
    where = location(position, koreader)
    if where:
        lines.append(where)
    return "\n".join(lines) + "[/dim]"


def location(position: ReadingPosition, koreader: bool) -> str:
    """``chapter05.xhtml #kobo.12.3`` (Nickel's span) or ``chapter05.xhtml /body/DocFragment[6]/…``
    (KOReader's whole xpointer); each side shows the other's anchor only when it lacks its own."""
    locator = position.locator
    if locator is None:
        return ""
    chapter = locator.chapter_href.rpartition("/")[2]
    span = f"#{locator.kobo_span}" if locator.kobo_span else None
    anchors = (locator.xpointer, span) if koreader else (span, locator.xpointer)
    anchor = next((a for a in anchors if a), "")
    return escape(f"{chapter} {anchor}".strip())


def decision_text(report: BookReport, dry_run: bool) -> str:
    decision = report.decision
    if report.error:
        return "[red]failed[/red]"
    scenario = f" ({decision.scenario.value.lower()})" if decision.scenario is not None else ""
    if decision.transfer is Transfer.SKIP:
        reason = decision.reason.value.lower().replace("_", " ") if decision.reason else "skip"
        why = next((note for note in report.notes if note.startswith(NOT_SYNCABLE_NOTE)), None)
        if why is not None:
            reason = f"{reason}:\n{escape(why[len(NOT_SYNCABLE_NOTE) :])}"
        return f"[dim]{reason}{scenario}[/dim]"
    arrow = ARROWS[decision.transfer] + scenario
    if report.written:
        return f"[green]{arrow}[/green]"
    if report.question is not None:
        return f"[yellow]{arrow}?[/yellow]"
    return f"[cyan]{arrow}[/cyan]" + (" (planned)" if dry_run else "")


def report_table(report: RunReport, title: str) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("Book", overflow="fold", max_width=40)
    table.add_column("Kobo", overflow="fold")
    table.add_column("KOReader", overflow="fold")
    table.add_column("Decision")
    for book in report.books:
        kobo, koreader = side(book.kobo), side(book.koreader, koreader=True)
        table.add_row(book.title, kobo, koreader, decision_text(book, report.dry_run))
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
            if note.startswith(NOT_SYNCABLE_NOTE):
                continue  # shown in the table
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
            "yes" if row["readable"] else row["not_syncable_reason"] or "no",
            _percent(row["kobo"]),
            _percent(row["koreader"]),
        )
    return table


def _percent(side_json: dict[str, Any]) -> str:
    if side_json["percent"] is None:
        return "—"
    return f"{percent_text(side_json['percent'])} {STATUS_WORDS[side_json['status']]}"
