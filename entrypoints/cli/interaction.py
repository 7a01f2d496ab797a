"""The progress bar and the prompts of ``kksync sync`` on a terminal (Rich, loaded only to draw them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from application.reports import BookReport, Question
from entrypoints.cli.terminal import err

if TYPE_CHECKING:
    from rich.progress import Progress


class ProgressBar:
    """A Rich progress bar on stderr while a whole library is read or synced.

    It steps aside while a question is asked on the terminal (a live bar and a prompt cannot
    share the screen), then carries on where it was.
    """

    def __init__(self, total: int | None, enabled: bool) -> None:
        self.progress: Progress | None = None
        if enabled:
            # Imported here: a piped or --json run draws no bar and never pays for Rich's progress.
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            self.progress = Progress(*columns, console=err.console, transient=True)
            self.task = self.progress.add_task("Syncing", total=total)

    def set_total(self, total: int) -> None:
        """The number of books, once the run has read the library (it is not read twice for this)."""
        if self.progress is not None:
            self.progress.update(self.task, total=total)

    def __enter__(self) -> ProgressBar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, report: BookReport) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    @contextmanager
    def paused(self) -> Iterator[None]:
        if self.progress is None:
            yield
            return
        self.progress.stop()
        try:
            yield
        finally:
            self.progress.start()


class TerminalPrompter:
    """Asks PROMPT questions on the terminal (with the progress bar out of the way).

    ``unanswered`` remembers the books whose question met the end of input (Ctrl-D), so the report
    says "no answer given" instead of telling someone who was asked to run with --interactive.
    """

    def __init__(self) -> None:
        self.bar = ProgressBar(0, enabled=False)
        self.unanswered: set[str] = set()

    def confirm(self, question: Question) -> bool | None:
        """The answer; None when stdin is closed, so the book is skipped and reported, not failed."""
        with self.bar.paused():
            err.print()
            try:
                from rich.prompt import Confirm

                return Confirm.ask(question.text, console=err.console, default=False)
            except EOFError:
                err.print()
                self.unanswered.add(question.book_id)
                return None
