"""The Kobo Library: from the daemon when it runs, else read-only from Nickel's database."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.conftest import PluginHarness, to_python
from tests.plugin.rpc_standin import KksyncState, StandInDaemon

STORE_BOOK = "c00698f0-3836-4428-b0fc-48354822fa80"
ART_OF_WAR = "Sun Tzu/Art of War, The - Sun Tzu.kepub.epub"
PDF = "Unknown - Unknown.pdf"


def menu_rows(harness: PluginHarness) -> list[dict[str, Any]]:
    menu = harness.last("Menu")
    return [to_python(item) for item in menu.item_table.values()]


def tap(harness: PluginHarness, index: int) -> None:
    menu = harness.last("Menu")
    menu.onMenuSelect(menu, menu.item_table[index])


def test_library_from_the_daemon_lists_readable_books_by_title(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    menu = harness.last("Menu")
    assert menu.title == "Kobo Library (3)"
    rows = menu_rows(harness)
    assert rows[0]["text"] == "Sorted by title · tap for recently read"
    assert [(r["text"], r["mandatory"]) for r in rows[1:]] == [
        ("emma — Jane Austen (Novels #4)", "new"),
        ("Mansfield Park — Jane Austen", "✓"),
        ("Persuasion — Jane Austen", "45 % / 38 %"),
    ]


def test_tapping_the_first_row_sorts_by_recently_read(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    tap(harness, 1)
    rows = menu_rows(harness)
    assert rows[0]["text"] == "Sorted by recently read · tap for title"
    assert [r["book"]["title"] for r in rows[1:]] == ["Mansfield Park", "Persuasion", "emma"]
    assert harness.ko.G_reader_settings["values"]["kksync_library_sort"] == "recent"


def test_opening_a_kepub_uses_the_epub_engine(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    tap(harness, 4)  # Persuasion, an extension-less Komga kepub
    opened = to_python(harness.ui.ReaderUI.opened)
    assert opened == [
        {
            "file": str(harness.device_root / ".kobo/kepub/0RDTATJQNHSQ0"),
            "provider": {"provider": "crengine", "provider_name": "Cool Reader Engine"},
        }
    ]
    assert harness.last("Menu") is None  # the list closed


def test_kepub_paths_get_the_epub_provider_from_the_registry(harness: PluginHarness) -> None:
    harness.new_plugin()
    registry = harness.ko.DocumentRegistry
    kepub = "/mnt/onboard/.kobo/kepub/0RDTATJQNHSQ0"
    assert registry.getProvider(registry, kepub).provider == "crengine"
    assert registry.hasProvider(registry, kepub) is True
    assert registry.getProvider(registry, "/mnt/onboard/notes/README").provider == "fallback-txt"
    assert registry.hasProvider(registry, "/mnt/onboard/notes/README") is False


def test_holding_a_book_shows_both_sides_and_the_cover(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    menu = harness.last("Menu")
    menu.onMenuHold(menu, menu.item_table[4])
    details = harness.last("InfoMessage").text
    assert "Kobo: 45.0 % (READING), 2026-11-20T14:30:00Z" in details
    assert "KOReader: 38.2 % (READING)" in details
    assert "Cover: /mnt/onboard/.kobo-images/12/34/0RDT.parsed" in details


def test_first_library_open_syncs_once_per_session(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    harness.show_library(plugin)
    harness.show_library(harness.new_plugin())  # a new view (e.g. after closing a book): same session
    assert running_daemon.methods().count("sync.run") == 1


def test_first_library_open_respects_automatic_sync_off(
    harness: PluginHarness, running_daemon: StandInDaemon, kksync_state: KksyncState
) -> None:
    kksync_state.settings["enable_auto_sync"] = False
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    assert "sync.run" not in running_daemon.methods()


# Without a daemon: straight from a copy of the real fw 4.38 database.


def place(harness: PluginHarness, relative: str) -> Path:
    path = harness.device_root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 book")
    return path


@pytest.fixture
def device_with_books(harness: PluginHarness, fixture_db: Path) -> Path:
    place(harness, f".kobo/kepub/{STORE_BOOK}")
    place(harness, ART_OF_WAR)
    place(harness, PDF)
    return fixture_db


def load(harness: PluginHarness) -> tuple[list[dict[str, Any]], str, str]:
    plugin = harness.new_plugin()
    out = harness.lua.eval(
        "function(p) local out = {} "
        "p.library:loadAsync(function(b, s, w) out.books, out.source, out.why = b, s, w end) return out end"
    )(plugin)
    harness.settle()
    return to_python(out.books), out.source, out.why


def test_database_fallback_lists_only_books_whose_file_exists(
    harness: PluginHarness, device_with_books: Path
) -> None:
    before = hashlib.sha256(device_with_books.read_bytes()).hexdigest()
    books, source, why = load(harness)
    assert source == "database"
    assert "not running" in why
    by_title = {book["title"]: book for book in books}
    assert set(by_title) == {
        "The Seven Principles For Making Marriage Work",
        "The Art of War",
        "The Myth of Academic Excellence and Scientific Curiosity",
    }
    store = by_title["The Seven Principles For Making Marriage Work"]
    assert store["path"] == str(harness.device_root / ".kobo/kepub" / STORE_BOOK)
    assert store["kobo"] == {"percent": 23, "status": "READING", "updated_at": "2024-09-01T20:55:40Z"}
    assert store["author"] == "John Gottman" and store["kind"] == "kepub"
    war = by_title["The Art of War"]
    assert war["path"] == str(harness.device_root / ART_OF_WAR)
    assert war["kobo"]["percent"] == 2
    assert by_title["The Myth of Academic Excellence and Scientific Curiosity"]["kind"] == "pdf"
    assert harness.bridges.sqlite_modes == ["ro"]
    assert hashlib.sha256(device_with_books.read_bytes()).hexdigest() == before


def test_database_fallback_hides_books_nickel_holds_drm_keys_for(
    harness: PluginHarness, device_with_books: Path
) -> None:
    with sqlite3.connect(device_with_books) as conn:
        conn.execute("INSERT INTO content_keys VALUES (?, ?, ?)", (STORE_BOOK, "OEBPS/a.xhtml", "k"))
    titles = {book["title"] for book in load(harness)[0]}
    assert "The Seven Principles For Making Marriage Work" not in titles
    assert "The Art of War" in titles


def test_database_fallback_shows_koreaders_own_progress(
    harness: PluginHarness, device_with_books: Path
) -> None:
    sidecar = harness.device_root / "Sun Tzu" / "Art of War, The - Sun Tzu.kepub.sdr" / "metadata.epub.lua"
    sidecar.parent.mkdir()
    sidecar.write_text('return { ["percent_finished"] = 0.5, ["summary"] = { ["status"] = "reading" } }\n')
    books = {book["title"]: book for book in load(harness)[0]}
    assert books["The Art of War"]["koreader"] == {"percent": 50.0, "status": "READING"}


def test_library_view_says_it_is_offline_and_does_not_sync(
    harness: PluginHarness, device_with_books: Path
) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    menu = harness.last("Menu")
    assert menu.title == "Kobo Library (3) · offline"
    notice = harness.last("InfoMessage").text
    assert "not running" in notice and "sync is unavailable" in notice
    rows = menu_rows(harness)
    assert rows[1]["book"]["title"] == "The Art of War"


def test_without_daemon_or_database_the_reader_is_told_both_reasons(harness: PluginHarness) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    assert harness.last("Menu") is None
    text = harness.last("InfoMessage").text
    assert "not running" in text and "Cannot open the Kobo database" in text


def test_book_paths_from_content_ids_never_leave_the_device(harness: PluginHarness, tmp_path: Path) -> None:
    """Store books on the card are found in koboExtStorage/kepub; ``..`` and foreign paths name no file."""
    card = tmp_path / "card"
    (card / "koboExtStorage" / "kepub").mkdir(parents=True)
    (card / "koboExtStorage" / "kepub" / "ON-CARD").write_bytes(b"PK")
    database = harness.require("kksync/nickel_db").new(
        harness.lua.table_from(
            {
                "sqlite": harness.sqlite,
                "file_exists": harness.bridges.is_file,
                "device_root": str(harness.device_root),
                "sd_root": str(card),
            }
        )
    )
    paths = {
        content_id: database.bookPath(database, content_id)
        for content_id in (
            "ON-CARD",
            "NOWHERE",
            "file:///mnt/onboard/Books/A.epub",
            "file:///mnt/sd/Books/B.epub",
            "file:///mnt/onboard/../../etc/passwd",
            "file:///home/me/C.epub",
            "../x",
        )
    }
    assert paths == {
        "ON-CARD": f"{card}/koboExtStorage/kepub/ON-CARD",
        "NOWHERE": f"{harness.device_root}/.kobo/kepub/NOWHERE",
        "file:///mnt/onboard/Books/A.epub": f"{harness.device_root}/Books/A.epub",
        "file:///mnt/sd/Books/B.epub": f"{card}/Books/B.epub",
        "file:///mnt/onboard/../../etc/passwd": None,
        "file:///home/me/C.epub": None,
        "../x": None,
    }
