"""Rich tables and lines for people (the JSON shape lives in ``presenters``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
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


PROMPT_MARK = "?"
LEGEND_PROMPT = (
    f"{PROMPT_MARK} after a direction: a setting says `prompt` and nobody answered "
    "(sync on a terminal, or with --yes)"
)
LEGEND_NICKEL = "(Nickel N %): the percent Nickel stored, where it differs from the one its bookmark gives"


def count(number: int, noun: str) -> str:
    """``1 book``, ``2 books``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def book_order(title: str | None, book_id: str) -> tuple[str, str]:
    """Every list of books (``books``, ``status``, ``sync``) is in this order: by title, then ID."""
    return ((title or book_id).casefold(), book_id)


def in_book_order(report: RunReport) -> RunReport:
    return replace(report, books=tuple(sorted(report.books, key=lambda b: book_order(b.title, b.book_id))))


def percent_text(percent: float) -> str:
    """One decimal, rounded the same way in every table (``books`` and ``status`` agree)."""
    return f"{round(percent, 1):.1f} %"


def nickel_percent(shown: float, stored: int | None) -> str:
    """`` (Nickel 90 %)`` when Nickel's stored ``___PercentRead`` is not what the table shows."""
    if stored is None or round(shown) == stored:
        return ""
    return f" (Nickel {stored} %)"


def side(position: ReadingPosition | None, koreader: bool = False, stored: int | None = None) -> str:
    """Percent and status, the time, and where: the chapter file and the side's own anchor."""
    if position is None:
        return "—"
    when = iso(position.updated_at) or "no time"
    status = STATUS_WORDS[position.status.value]
    time_text = when.replace("T", " ").rstrip("Z")
    shown = position.progress * 100
    lines = [f"{percent_text(shown)} {status}{nickel_percent(shown, stored)}", f"[dim]{time_text}"]
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
        return f"[yellow]{arrow}{PROMPT_MARK}[/yellow]"
    return f"[cyan]{arrow}[/cyan]" + (" (planned)" if dry_run else "")


def report_table(report: RunReport, title: str, terminal: bool = True) -> Table:
    """The report as a table; titles are folded at 40 columns only on a terminal (a pipe gets
    whole lines, see ``terminal.WIDE``)."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("Book", overflow="fold", max_width=40 if terminal else None)
    table.add_column("Kobo", overflow="fold")
    table.add_column("KOReader", overflow="fold")
    table.add_column("Decision")
    for book in report.books:
        kobo = side(book.kobo, stored=book.kobo_percent_read)
        koreader = side(book.koreader, koreader=True)
        table.add_row(escape(book.title), kobo, koreader, decision_text(book, report.dry_run))
    return table


def legend(report: RunReport) -> Iterator[str]:
    """What the table's marks mean, for the marks it shows."""
    if any(book.question is not None and not book.written and not book.error for book in report.books):
        yield LEGEND_PROMPT
    if any(_nickel_differs(book) for book in report.books):
        yield LEGEND_NICKEL


def _nickel_differs(book: BookReport) -> bool:
    return book.kobo is not None and bool(nickel_percent(book.kobo.progress * 100, book.kobo_percent_read))


def summary_line(report: RunReport) -> str:
    verb = "would be " if report.dry_run else ""
    parts = [
        count(len(report.books), "book"),
        f"{report.pulled} {verb}pulled",
        f"{report.pushed} {verb}pushed",
        f"{report.skipped} skipped",
        f"{report.failed} failed",
    ]
    line = ", ".join(parts)
    if report.backup is not None:
        line += f"; backup: {report.backup}"
    return line


def details(report: RunReport, unanswered: set[str] | frozenset[str] = frozenset()) -> Iterator[str]:
    """Pending questions and what was (or would be) written, one line each (errors: ``errors``)."""
    for book in report.books:
        if book.question is not None and not book.written and not report.dry_run and not book.error:
            if book.book_id in unanswered:
                yield f"waiting: {book.title}: no answer given; sync again to be asked again"
            else:
                yield f"waiting: {book.title}: needs confirmation (run with --interactive or --yes)"
        if book.decision.transfer is not Transfer.SKIP and (book.written or report.dry_run):
            for change in book.changes:
                yield f"  {book.title}: {change}"
        for note in book.notes:
            if note.startswith(NOT_SYNCABLE_NOTE):
                continue  # shown in the table
            yield f"  note: {book.title}: {note}"


def errors(report: RunReport) -> Iterator[str]:
    """One ``kksync: error:`` line per failed book, for stderr."""
    for book in report.books:
        if book.error:
            yield f"kksync: error: {book.title}: {book.error}"


def library_table(
    rows: list[dict[str, Any]], ids: Mapping[str, str], stored: Mapping[str, int | None]
) -> Table:
    table = Table(title="Kobo library")
    for column in ("ID", "Title", "Author", "Source", "Kind", "File", "Kobo", "KOReader"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            escape(ids.get(row["book_id"], row["book_id"])),
            escape(row["title"] or row["book_id"]),
            escape(row["author"] or ""),
            row["source"],
            row["kind"],
            "yes" if row["readable"] else row["not_syncable_reason"] or "no",
            _percent(row["kobo"], stored.get(row["book_id"])),
            _percent(row["koreader"]),
        )
    return table


def _percent(side_json: dict[str, Any], stored: int | None = None) -> str:
    if side_json["percent"] is None:
        return "—"
    shown = side_json["percent"]
    return f"{percent_text(shown)} {STATUS_WORDS[side_json['status']]}{nickel_percent(shown, stored)}"
