"""Books on the Kobo's SD card (``file:///mnt/sd/...``): found through ``--sd-card`` / ``KKSYNC_SD_CARD``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.device import DeviceLayout, default_sd_card
from adapters.kobo.schema import create_nickel_database
from entrypoints import demo_texts
from entrypoints.demo import DemoBook, Place, populate
from tests.e2e.cli.devices import by_book, kksync, read_sidecar, sync_json

ON_CARD = "file:///mnt/sd/Jane Austen/Pride and Prejudice.kepub.epub"


def card_device(tmp_path: Path) -> tuple[Path, Path]:
    root, card = tmp_path / "KOBOeReader", tmp_path / "KOBOSD"
    layout = DeviceLayout(root, card)
    layout.database.parent.mkdir(parents=True)
    create_nickel_database(layout.database)
    read_at = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    book = DemoBook(ON_CARD, "Pride and Prejudice", "Jane Austen", demo_texts.PRIDE, "on the card",
                    opf_dir="", kobo=Place(1, 0.5, read_at))  # fmt: skip
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
    assert '"decision": "PULL"' in result.stdout


def test_without_the_card_its_books_are_not_syncable(tmp_path: Path) -> None:
    root, _ = card_device(tmp_path)
    report = by_book(sync_json(root))
    assert report[ON_CARD]["reason"] == "NOT_SYNCABLE" and not report[ON_CARD]["written"]


def test_on_the_kobo_itself_no_card_is_assumed_elsewhere(tmp_path: Path) -> None:
    assert default_sd_card(tmp_path, {}) is None
    assert default_sd_card(tmp_path, {"KKSYNC_SD_CARD": "/media/me/KOBOSD"}) == Path("/media/me/KOBOSD")
