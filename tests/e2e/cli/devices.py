"""Fixture Kobos for the ``kksync`` end-to-end tests, and the ways the tests look at them afterwards.

The devices are built with the demo's own builders (``entrypoints.demo.run.populate``), so a test device
is exactly what a person gets from ``kksync demo``: real kepubs with koboSpans, Nickel rows, KOReader
sidecars with highlights, and ``history.lua``. Everything is inspected from outside the program:
the database through a read-only, immutable sqlite3 connection, the sidecars through KOReader's own
Lua format, and every file on the device by hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.device import DeviceLayout
from adapters.epub.content import EpubContent
from adapters.epub.document import EpubDocument
from adapters.koreader.library import SidecarLibrary
from adapters.koreader.lua_sandbox import shared_sandbox
from adapters.koreader.lua_values import LuaTable, LuaValue
from entrypoints.demo import texts as demo_texts
from entrypoints.demo.nickel_schema import create_nickel_database
from entrypoints.demo.run import BOOKS, DemoBook, Place, populate

KKSYNC = Path(sys.executable).parent / "kksync"
SUBPROCESS_TIMEOUT = 120

# -- the books -------------------------------------------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


PRIDE_ID, ALICE_ID = "0RDTATJQNHSQ0", "5e0a7f4c-2b1d-4c8e-9a43-7d2f0c6b1e95"
ART_OF_WAR_ID = "file:///mnt/onboard/Sun Tzu/Sun Tzu's The Art of War.kepub.epub"
MOBY_ID, TIME_MACHINE_ID = "c2a8d3f1-6e4b-4b7a-8f0e-3a9d5c1b7e24", "0V8Q3M5K7T2XZ"
# Apostrophe, percent sign, spaces, quotes and non-ASCII letters: what sideloaded file names hold.
ODD_ID = "file:///mnt/onboard/Bücher/O'Brien – 100% Ünïcode.kepub.epub"

ODD_BOOK = DemoBook(
    ODD_ID,
    "O'Brien's 100% Ünïcode",
    "Flann O'Brien",
    demo_texts.TIME_MACHINE,
    "sideloaded with an awkward name, read further in Nickel: pulled",
    opf_dir="",
    kobo=Place(1, 0.5, _at("2026-11-21T09:00:00")),
    koreader=Place(0, 0.2, _at("2026-11-20T09:00:00")),
)

# The demo library: one pull (Pride), two pushes (Alice, Art of War), one older push refused by the
# default policy (Moby-Dick), one book nobody opened (Time Machine); plus the awkward id, a pull.
MAIN_BOOKS: tuple[DemoBook, ...] = (*BOOKS, ODD_BOOK)
MAIN_PULLS = (PRIDE_ID, ODD_ID)
MAIN_PUSHES = (ALICE_ID, ART_OF_WAR_ID)


@dataclass(frozen=True)
class Cell:
    """One policy cell and the book on the policy device that lands in it."""

    setting: str
    book_id: str
    transfer: str
    scenario: str


# One book per policy cell (direction x scenario). "Older" means the side read last has less.
CELLS = (
    Cell("sync_from_kobo_newer", "CELLFROMNEWER", "PULL", "NEWER"),
    Cell("sync_from_kobo_older", "CELLFROMOLDER", "PULL", "OLDER"),
    Cell("sync_to_kobo_newer", "CELLTOKNEWER0", "PUSH", "NEWER"),
    Cell("sync_to_kobo_older", "CELLTOKOLDER0", "PUSH", "OLDER"),
)
_EARLY, _LATE = _at("2026-10-01T08:00:00"), _at("2026-10-05T20:00:00")
POLICY_BOOKS: tuple[DemoBook, ...] = (
    DemoBook(
        CELLS[0].book_id, "Kobo newer", "A", demo_texts.PRIDE, "Kobo ahead, read last",
        kobo=Place(1, 0.55, _LATE), koreader=Place(0, 0.4, _EARLY),
    ),
    DemoBook(
        CELLS[1].book_id, "Kobo older", "B", demo_texts.ALICE, "Kobo went back, read last",
        kobo=Place(0, 0.3, _LATE), koreader=Place(2, 0.5, _EARLY),
    ),
    DemoBook(
        CELLS[2].book_id, "KOReader newer", "C", demo_texts.MOBY_DICK, "KOReader ahead, read last",
        kobo=Place(0, 0.3, _EARLY), koreader=Place(2, 0.5, _LATE),
    ),
    DemoBook(
        CELLS[3].book_id, "KOReader older", "D", demo_texts.ART_OF_WAR, "KOReader went back, read last",
        kobo=Place(2, 0.5, _EARLY), koreader=Place(0, 0.2, _LATE),
    ),
)  # fmt: skip


def build_device(folder: Path, books: Sequence[DemoBook]) -> DeviceLayout:
    """A Kobo in ``folder`` holding ``books``, built the way ``kksync demo`` builds its device."""
    layout = DeviceLayout(folder)
    layout.database.parent.mkdir(parents=True, exist_ok=True)
    create_nickel_database(layout.database)
    populate(layout, books)
    return layout


# -- running the command ---------------------------------------------------------------------------


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``KKSYNC_*`` the developer may have set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KKSYNC_")}
    env.update(extra or {})
    return env


def kksync(
    *arguments: str | Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``kksync`` console script; stdin is a pipe (never a terminal)."""
    return subprocess.run(
        [str(KKSYNC), *map(str, arguments)],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=clean_environment(env),
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


def json_document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The single JSON document on stdout (``json.loads`` refuses anything before or after it)."""
    assert result.stdout.strip(), f"no output; stderr: {result.stderr}"
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def sync_json(
    device: Path, *arguments: str, env: Mapping[str, str] | None = None, expect: int = 0
) -> dict[str, Any]:
    """``kksync sync --json`` on ``device``: the report, after checking the exit code."""
    result = kksync("sync", "--json", "--device", device, *arguments, env=env)
    assert result.returncode == expect, f"exit {result.returncode}: {result.stderr}"
    return json_document(result)


def by_book(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {book["book_id"]: book for book in report["books"]}


# -- looking at the device -------------------------------------------------------------------------


def file_hashes(root: Path, *, include_backups: bool = False) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (the backups folder left out unless asked for)."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and (include_backups or "backups" not in relative.parts):
            hashes[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def _read_only(db: Path) -> sqlite3.Connection:
    # immutable=1: no journal, no lock file, nothing created or touched next to the database.
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


Dump = dict[str, list[tuple[Any, ...]]]


def database_dump(db: Path) -> Dump:
    """Every row of every table, each cell as (storage class, SQL literal), in a stable order."""
    with closing(_read_only(db)) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        dump: Dump = {}
        for table in tables:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            cells = ", ".join(f'typeof("{c}"), quote("{c}")' for c in columns)
            rows = connection.execute(f'SELECT {cells} FROM "{table}"').fetchall()
            dump[table] = sorted(rows, key=repr)
        return dump


def content_rows(db: Path) -> dict[str, dict[str, Any]]:
    """The ``content`` table as {ContentID: {column: value}} with Python values."""
    with closing(_read_only(db)) as connection:
        connection.row_factory = sqlite3.Row
        return {row["ContentID"]: dict(row) for row in connection.execute("SELECT * FROM content")}


def content_cells(db: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """Every ``content`` cell as (storage class, SQL literal), keyed by (ContentID, column)."""
    with closing(_read_only(db)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(content)")]
        typed = ", ".join(f'typeof("{c}"), quote("{c}")' for c in columns)
        cells = {}
        for row in connection.execute(f"SELECT ContentID, {typed} FROM content"):
            for index, column in enumerate(columns):
                cells[(row[0], column)] = (row[1 + 2 * index], row[2 + 2 * index])
        return cells


def ledger_books(layout: DeviceLayout) -> set[str]:
    """The books the ledger holds an agreement for (empty when there is no ledger yet)."""
    path = layout.kksync_dir / "ledger.sqlite"
    if not path.exists():
        return set()
    with closing(_read_only(path)) as connection:
        return {row[0] for row in connection.execute("SELECT book_id FROM agreed_state")}


def sidecar_of(layout: DeviceLayout, book_id: str) -> Path | None:
    """The sidecar KOReader would load for this book, found by KOReader's own rules."""
    return SidecarLibrary(layout).read(layout.book_host_path(book_id)).sidecar


def read_sidecar(path: Path) -> LuaTable:
    return shared_sandbox().load_file(path)


def lua_number(value: LuaValue) -> float:
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return float(value)


def lua_table(value: LuaValue) -> LuaTable:
    assert isinstance(value, dict), value
    return value


def open_book(layout: DeviceLayout, book_id: str) -> EpubDocument:
    return EpubContent().open(layout.book_host_path(book_id))


def write_config(layout: DeviceLayout, values: Mapping[str, str | bool]) -> None:
    """Write ``config.toml`` by hand, as a person editing the file would."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = layout.kksync_dir / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
