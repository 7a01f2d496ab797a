"""Where the command's words go: stdout for results, stderr for messages, both without start-up cost.

Rich is imported the first time something is printed through a console, not when the command
starts: ``kksync --help`` and usage errors never pay for it.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

WIDE = 1000
"""Console width when the output is not a terminal: tables keep their natural width instead of
hard-wrapping words at Rich's 80-column default (scripts and ``less -S`` read whole lines)."""


class LazyConsole:
    """A Rich console on stdout or stderr, created on first use."""

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        stream = sys.stderr if self.stderr else sys.stdout
        width = None if stream.isatty() or "COLUMNS" in os.environ else WIDE
        return Console(stderr=self.stderr, width=width)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


out = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)


class Verbosity:
    """``-q`` silences notices (not warnings or errors); set once by the root options."""

    quiet = False


def print_line(console: LazyConsole, text: str) -> None:
    """Plain text as one line, verbatim: never wrapped at the console width (paths and messages
    are read by scripts and logs), and brackets in paths are not taken for Rich markup."""
    stream = sys.stderr if console.stderr else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def notice(text: str) -> None:
    """Something worth knowing on stderr (which Kobo is used…); ``--quiet`` leaves it out."""
    if not Verbosity.quiet:
        print_line(err, text)


def warn(text: str) -> None:
    """``kksync: warning: …`` on stderr: the command goes on."""
    print_line(err, f"kksync: warning: {text}")


def emit_json(document: Mapping[str, Any]) -> None:
    """The document indented on a terminal; on one line when piped, where a program reads it.

    Indenting makes ``json`` use its pure-Python encoder: for a large library's report that was
    a tenth of a second of a no-op sync here (a second on a Kobo) that no program reading it needs.
    A value that is an iterator (a report's books) is written item by item when piped: 8,000
    books' JSON held at once, as dicts and as one text, was ~30 MB of the command's peak memory.
    """
    if sys.stdout.isatty():
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=list) + "\n")
        return
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    write = sys.stdout.write
    for index, (key, value) in enumerate(document.items()):
        write(("," if index else "{") + encode(key) + ":")
        if isinstance(value, Iterator):
            write("[" + ",".join(encode(item) for item in itertools.islice(value, 1)))
            for item in value:
                write("," + encode(item))
            write("]")
        else:
            write(encode(value))
    write("}\n" if document else "{}\n")
