"""Books on the Kobo's SD card (``file:///mnt/sd/...``): found through ``--sd-card`` / ``KKSYNC_SD_CARD``."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from adapters.device import DeviceLayout, default_sd_card
from entrypoints.demo import texts as demo_texts
from entrypoints.demo.nickel_schema import create_nickel_database
from entrypoints.demo.run import DemoBook, Place, populate
from tests.e2e.cli.devices import by_book, json_document, kksync, read_sidecar, sync_json

ON_CARD = "file:///mnt/sd/Jane Austen/Pride and Prejudice.kepub.epub"
KOMGA_ON_CARD = "0RDTATJQNHSQ1"


READ_AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
SIDELOADED = DemoBook(ON_CARD, "Pride and Prejudice", "Jane Austen", demo_texts.PRIDE, "on the card",
                      opf_dir="", kobo=Place(1, 0.5, READ_AT))  # fmt: skip


def card_device(tmp_path: Path, book: DemoBook = SIDELOADED) -> tuple[Path, Path]:
    """A Kobo with an SD card (both as host folders) and one book, Nickel half-way through it."""
    root, card = tmp_path / "KOBOeReader", tmp_path / "KOBOSD"
    layout = DeviceLayout(root, card)
    layout.database.parent.mkdir(parents=True)
    create_nickel_database(layout.database)
    populate(layout, [book])
    return root, card


def test_a_book_on_the_sd_card_is_synced_when_the_card_is_named(tmp_path: Path) -> None:
    root, card = card_device(tmp_path)
    report = by_book(sync_json(root, "--sd-card", str(card)))
    assert report[ON_CARD]["decision"] == "PULL" and report[ON_CARD]["written"]
    sidecar = card / "Jane Austen" / "Pride and Prejudice.kepub.sdr" / "metadata.epub.lua"
    table = read_sidecar(sidecar)
    assert table["doc_path"] == "/mnt/sd/Jane Austen/Pride and Prejudice.kepub.epub"
    assert str(table["last_xpointer"]).startswith("/body/DocFragment[2]/body/")


def test_the_card_can_be_named_in_the_environment(tmp_path: Path) -> None:
    root, card = card_device(tmp_path)
    result = kksync("status", "--json", "--device", root, env={"KKSYNC_SD_CARD": str(card)})
    assert result.returncode == 0, result.stderr
    assert by_book(json_document(result))[ON_CARD]["decision"] == "PULL"


def test_without_the_card_its_books_are_not_syncable(tmp_path: Path) -> None:
    root, _ = card_device(tmp_path)
    report = by_book(sync_json(root))
    assert report[ON_CARD]["reason"] == "NOT_SYNCABLE" and not report[ON_CARD]["written"]


def test_a_server_book_downloaded_to_the_card_is_found_in_kobo_ext_storage(tmp_path: Path) -> None:
    book = DemoBook(KOMGA_ON_CARD, "Pride", "Jane Austen", demo_texts.PRIDE, "Komga, on the card",
                    kobo=Place(1, 0.5, READ_AT))  # fmt: skip
    root, card = card_device(tmp_path, book)  # its file lands onboard, as for a book on neither storage
    layout = DeviceLayout(root, card)
    on_card = card / "koboExtStorage" / "kepub" / KOMGA_ON_CARD
    on_card.parent.mkdir(parents=True)
    shutil.move(layout.book_host_path(KOMGA_ON_CARD), on_card)
    result = kksync("books", "--json", "--device", root, "--sd-card", card)
    assert result.returncode == 0, result.stderr
    listed = {entry["book_id"]: entry for entry in json_document(result)["books"]}[KOMGA_ON_CARD]
    assert listed["path"] == f"/mnt/sd/koboExtStorage/kepub/{KOMGA_ON_CARD}"
    assert listed["file_present"] and listed["readable"]
    report = by_book(sync_json(root, "--sd-card", str(card), "--dry-run"))
    assert report[KOMGA_ON_CARD]["decision"] == "PULL"


def test_a_card_path_that_climbs_out_of_the_card_is_never_followed(tmp_path: Path) -> None:
    root, card = card_device(tmp_path)
    escaping = "file:///mnt/sd/../Pride and Prejudice.kepub.epub"  # <card>/.. is tmp_path
    decoy = tmp_path / "Pride and Prejudice.kepub.epub"
    shutil.move(card / "Jane Austen" / "Pride and Prejudice.kepub.epub", decoy)
    with closing(sqlite3.connect(root / ".kobo" / "KoboReader.sqlite")) as nickel, nickel:
        for column in ("ContentID", "BookID"):
            nickel.execute(f"UPDATE content SET {column} = replace({column}, ?, ?)", (ON_CARD, escaping))
    outside_before = sorted(tmp_path.iterdir())
    result = kksync("sync", "--json", "--device", root, "--sd-card", card)
    assert result.returncode == 0, result.stderr
    report = by_book(json_document(result))
    assert report[escaping]["reason"] == "NOT_SYNCABLE" and not report[escaping]["written"]
    assert "leads outside the Kobo's storage" in result.stderr
    assert sorted(tmp_path.iterdir()) == outside_before  # no sidecar beside the decoy


def test_on_the_kobo_itself_no_card_is_assumed_elsewhere(tmp_path: Path) -> None:
    assert default_sd_card(tmp_path, {}) is None
    assert default_sd_card(tmp_path, {"KKSYNC_SD_CARD": "/media/me/KOBOSD"}) == Path("/media/me/KOBOSD")
