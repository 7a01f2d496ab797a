"""``add_kepub_books`` writes exactly the rows ``add_kepub_book`` writes, book for book."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from entrypoints.demo.nickel_builder import add_kepub_book, add_kepub_books
from entrypoints.demo.nickel_schema import create_nickel_database

CHAPTERS = [("OEBPS/Text/cover.xhtml", 300), ("OEBPS/Text/ch1.xhtml", 5000), ("OEBPS/Text/ch2.xhtml", 7000)]
BOOKS: list[dict[str, Any]] = [
    {"content_id": "0RDTATJQNHSQ0", "title": "Komga", "chapters": CHAPTERS, "entitlement_id": "0RDTATJQNHSQ0",
     "series": "Saga", "series_number": "2"},
    {"content_id": "c00698f0-3836-4428-b0fc-48354822fa80", "title": "Store", "chapters": CHAPTERS,
     "entitlement_id": "0b9f6c2e-1d7a-4e3b-a5c8-2f4e6d8b0a13", "read_status": 1, "percent_read": 40,
     "date_last_read": datetime(2026, 9, 1, 8, 0, tzinfo=UTC), "bookmark": "OEBPS/Text/ch1.xhtml#kobo.3.1",
     "chapter_percent_read": {"OEBPS/Text/ch1.xhtml": 55}},
    {"content_id": "file:///mnt/onboard/A/B.kepub.epub", "title": "Sideloaded", "author": "A. B.",
     "chapters": [("c.xhtml", 10), ("d.xhtml", 20)], "opf_dir": "", "table_of_contents": False},
]  # fmt: skip


def dump(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(database)) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in ("content", "volume_shortcovers")
        }


def test_the_batch_writes_the_same_rows_as_one_book_at_a_time(tmp_path: Path) -> None:
    one_by_one, batch = tmp_path / "one.sqlite", tmp_path / "batch.sqlite"
    create_nickel_database(one_by_one)
    create_nickel_database(batch)
    single_ids = [add_kepub_book(one_by_one, **book) for book in BOOKS]

    batch_ids = add_kepub_books(batch, BOOKS)

    assert batch_ids == single_ids
    assert dump(batch) == dump(one_by_one)
    assert len(dump(batch)["content"]) == 3 + (3 + 3 + 2) + (3 + 3)  # books, spine rows, TOC rows


def test_a_bad_book_in_the_batch_writes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "KoboReader.sqlite"
    create_nickel_database(database)
    outside_opf = {"content_id": "0V8Q3M5K7T2XZ", "title": "Bad", "chapters": [("Elsewhere/x.xhtml", 1)]}

    with pytest.raises(ValueError, match="not inside the OPF folder"):
        add_kepub_books(database, [BOOKS[0], outside_opf])

    assert dump(database)["content"] == []
