"""The other commands: ``books``, ``status``, ``--book``, ``config``, ``backup``, ``demo``, auto-detection."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from adapters.device import find_mounted_kobos
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    ALICE_ID,
    ART_OF_WAR_ID,
    MAIN_BOOKS,
    MOBY_ID,
    ODD_ID,
    PRIDE_ID,
    TIME_MACHINE_ID,
    by_book,
    database_dump,
    file_hashes,
    json_document,
    kksync,
    sidecar_of,
)

SIDE_KEYS = {"percent", "status", "updated_at", "chapter"}
BOOK_REPORT_KEYS = {
    "book_id", "title", "source", "kind", "decision", "reason", "scenario", "needs_confirmation",
    "written", "error", "kobo", "koreader", "changes", "notes", "question", "annotations",
}  # fmt: skip
LIBRARY_KEYS = {
    "book_id", "title", "author", "series", "series_number", "source", "kind", "file_present",
    "readable", "not_syncable_reason", "path", "kobo", "koreader",
}  # fmt: skip


def test_books_lists_the_library_with_sources_and_both_sides(main_device: CopyDevice) -> None:
    layout = main_device()
    before = file_hashes(layout.root, include_backups=True)
    result = kksync("books", "--json", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    document = json_document(result)
    assert document.keys() == {"books"}
    books = {book["book_id"]: book for book in document["books"]}
    assert books.keys() == {book.content_id for book in MAIN_BOOKS}
    for book in books.values():
        assert book.keys() == LIBRARY_KEYS
        assert book["kobo"].keys() == SIDE_KEYS | {"span"}
        assert book["koreader"].keys() == SIDE_KEYS | {"xpointer"}
        assert (book["kind"], book["file_present"], book["readable"]) == ("kepub", True, True)
    expected = {
        PRIDE_ID: "komga",
        ALICE_ID: "calibre-web",
        MOBY_ID: "kobo-store",
        ART_OF_WAR_ID: "sideloaded",
    }
    assert {book_id: books[book_id]["source"] for book_id in expected} == expected
    assert books[ART_OF_WAR_ID]["path"] == "/mnt/onboard/Sun Tzu/Sun Tzu's The Art of War.kepub.epub"
    assert books[PRIDE_ID]["path"] == "/mnt/onboard/.kobo/kepub/0RDTATJQNHSQ0"
    assert (books[PRIDE_ID]["title"], books[PRIDE_ID]["author"]) == ("Pride and Prejudice", "Jane Austen")
    assert books[TIME_MACHINE_ID]["koreader"]["status"] == "UNOPENED"
    assert books[PRIDE_ID]["kobo"]["span"] and books[PRIDE_ID]["koreader"]["xpointer"]
    assert file_hashes(layout.root, include_backups=True) == before


def test_status_reports_every_decision_without_writing(main_device: CopyDevice) -> None:
    layout = main_device()
    before = file_hashes(layout.root, include_backups=True)
    result = kksync("status", "--json", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    report = json_document(result)
    assert report.keys() == {"books", "summary", "dry_run", "backup"}
    assert report["summary"] == {"books": 6, "pulled": 2, "pushed": 2, "skipped": 2, "failed": 0}
    for book in report["books"]:
        assert book.keys() == BOOK_REPORT_KEYS
        assert book["written"] is False
        assert book["kobo"]["updated_at"] is None or book["kobo"]["updated_at"].endswith("Z")
    assert by_book(report)[PRIDE_ID]["kobo"]["updated_at"] == "2026-11-20T14:30:00Z"
    assert by_book(report)[PRIDE_ID]["koreader"]["updated_at"] == "2026-11-19T21:02:11Z"
    assert file_hashes(layout.root, include_backups=True) == before


def test_the_status_table_shows_where_each_side_is_and_why(main_device: CopyDevice) -> None:
    """The terminal table carries what --json does: chapter, span / xpointer, newer / older."""
    layout = main_device()
    report = by_book(json_document(kksync("status", "--json", "--book", PRIDE_ID, "--device", layout.root)))
    pride = report[PRIDE_ID]
    table = kksync("status", "--book", PRIDE_ID, "--device", layout.root, env={"COLUMNS": "250"})
    assert table.returncode == 0, table.stderr
    text = table.stdout
    kobo_chapter = pride["kobo"]["chapter"].rpartition("/")[2]
    assert f"{kobo_chapter} #{pride['kobo']['span']}" in text
    assert pride["koreader"]["xpointer"] in text
    assert f"({pride['scenario'].lower()})" in text
    assert f"{pride['kobo']['percent']:.1f} %" in text


def test_book_ids_with_apostrophes_percent_signs_and_accents_select_exactly_those_books(
    main_device: CopyDevice,
) -> None:
    layout = main_device()
    pride = sidecar_of(layout, PRIDE_ID)
    assert pride is not None
    pride_before = pride.read_bytes()
    status = json_document(kksync("status", "--json", "--book", ODD_ID, "--device", layout.root))
    assert [book["book_id"] for book in status["books"]] == [ODD_ID]
    assert status["books"][0]["title"] == "O'Brien's 100% Ünïcode"
    result = kksync("sync", "--json", "--book", ODD_ID, "--book", ART_OF_WAR_ID, "--device", layout.root)
    assert result.returncode == 0, result.stderr
    books = by_book(json_document(result))
    assert books.keys() == {ODD_ID, ART_OF_WAR_ID}
    assert (books[ODD_ID]["decision"], books[ODD_ID]["written"]) == ("PULL", True)
    assert (books[ART_OF_WAR_ID]["decision"], books[ART_OF_WAR_ID]["written"]) == ("PUSH", True)
    assert sidecar_of(layout, ODD_ID) is not None
    assert pride.read_bytes() == pride_before  # not asked for, not synced


def test_config_set_stores_the_setting_and_config_show_reports_the_effective_ones(
    main_device: CopyDevice,
) -> None:
    layout = main_device()
    shown = json_document(kksync("config", "show", "--json", "--device", layout.root))
    assert shown["file"] == str(layout.kksync_dir / "config.toml")
    assert shown["settings"]["sync_to_kobo_older"] == "never"
    assert shown["settings"]["sync_reading_state"] is True
    result = kksync("config", "set", "sync_to_kobo_older", "PROMPT", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    stored = tomllib.loads((layout.kksync_dir / "config.toml").read_text(encoding="utf-8"))
    assert stored == {"sync_to_kobo_older": "prompt"}
    text = kksync("config", "show", "--device", layout.root, env={"KKSYNC_SYNC_FROM_KOBO_NEWER": "never"})
    shown_toml = tomllib.loads(text.stdout)  # valid TOML: values, and where each came from as comments
    assert shown_toml["sync_to_kobo_older"] == "prompt"
    assert shown_toml["sync_from_kobo_newer"] == "never"  # the environment counts too
    assert shown_toml["koreader_dir"] == str(layout.root / ".adds" / "koreader")  # the folder in use
    origins = {line.split(" = ")[0]: line.rpartition("# ")[2] for line in text.stdout.splitlines()[1:]}
    assert origins["sync_to_kobo_older"] == "file, line 2"
    assert origins["sync_from_kobo_newer"] == "environment, KKSYNC_SYNC_FROM_KOBO_NEWER"
    assert origins["sync_reading_state"] == "default"


def test_config_set_refuses_an_unknown_setting_and_keeps_the_file(main_device: CopyDevice) -> None:
    layout = main_device()
    result = kksync("config", "set", "sync_everything", "yes", "--device", layout.root)
    assert result.returncode == 1
    assert "sync_everything" in result.stderr and "sync_reading_state" in result.stderr
    assert not (layout.kksync_dir / "config.toml").exists()


def test_backup_copies_the_database_into_the_backups_folder(main_device: CopyDevice) -> None:
    layout = main_device()
    dump = database_dump(layout.database)
    result = kksync("backup", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    backups = list((layout.kksync_dir / "backups").iterdir())
    assert len(backups) == 1
    assert result.stdout.strip() == f"Backed up to {backups[0]}"
    assert database_dump(backups[0]) == dump
    assert database_dump(layout.database) == dump


def test_the_demo_builds_syncs_and_proves_the_second_sync_wrote_nothing(tmp_path: Path) -> None:
    result = kksync("demo", tmp_path / "demo device")
    assert result.returncode == 0, result.stderr
    last = [line for line in result.stdout.splitlines() if line.strip()][-1]
    assert last.startswith("Second sync:")
    assert "unchanged" in last and "CHANGED" not in last
    assert (tmp_path / "demo device" / ".adds" / "kksync" / "ledger.sqlite").is_file()


def test_without_device_and_nothing_mounted_it_says_no_kobo_was_found(tmp_path: Path) -> None:
    if find_mounted_kobos():
        pytest.skip("a Kobo is mounted on this machine")
    result = kksync("status", env={"HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "no mounted Kobo found" in result.stderr
    assert "--device" in result.stderr
