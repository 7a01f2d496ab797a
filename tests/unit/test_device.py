"""``DeviceLayout``: on-device paths to host paths and back, store books on the SD card, escapes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.device import DeviceLayout
from adapters.kobo.library import NickelLibrary
from application.records import FileState
from entrypoints.demo.nickel_builder import add_kepub_book
from tests.support.nickel import KOMGA_SPINE, empty_device, write_epub

STORE_ID = "c00698f0-3836-4428-b0fc-48354822fa80"


@pytest.fixture
def layout(tmp_path: Path) -> DeviceLayout:
    return DeviceLayout(tmp_path / "KOBOeReader", sd_root=tmp_path / "KOBOSD")


def place(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK")
    return path


def test_paths_inside_the_device_map_both_ways(layout: DeviceLayout) -> None:
    book = layout.root / "Books" / "Austen" / "Emma.epub"
    assert layout.to_host("/mnt/onboard/Books/Austen/Emma.epub") == book
    assert layout.to_device(book) == "/mnt/onboard/Books/Austen/Emma.epub"
    assert layout.to_host("/mnt/onboard/Books/./x/../Austen/Emma.epub") == book
    assert layout.to_host("/mnt/onboard") == layout.root
    assert layout.sd_root is not None
    assert layout.to_host("/mnt/sd/Emma.epub") == layout.sd_root / "Emma.epub"
    assert layout.to_host("/mnt/onboard/..hidden/Emma.epub") == layout.root / "..hidden" / "Emma.epub"


@given(st.lists(st.sampled_from(["a", "b.epub", ".", "..", "", ".x", "x."]), max_size=6), st.booleans())
def test_a_path_maps_to_the_host_file_its_normalised_parts_name(names: list[str], trailing: bool) -> None:
    """The text fast path (no ``normpath`` when nothing can change) maps as pathlib would."""
    root = Path("/host/KOBOeReader")
    layout = DeviceLayout(root)
    device_path = "/mnt/onboard/" + "/".join(names) + ("/" if trailing else "")
    parts: list[str] = []
    for name in "/".join(names).split("/"):
        if name == "..":
            if not parts:
                assert layout.to_host(device_path) is None
                return
            parts.pop()
        elif name not in ("", "."):
            parts.append(name)
    expected = root.joinpath(*parts)
    assert layout.to_host(device_path) == expected
    assert layout.to_host_text(device_path) == str(expected)
    assert layout.to_device(expected) == "/".join(["/mnt/onboard", *parts])


@pytest.mark.parametrize(
    "device_path",
    [
        "/mnt/onboard/../../etc/passwd",
        "/mnt/onboard/..",
        "/mnt/onboard/Books/../../x.epub",
        "/mnt/sd/../../../x.epub",
        "/mnt/sd/../onboard/x.epub",  # from the card onto the partition is leaving the card too
        "/mnt/onboard/C:/Windows/x.epub",  # a drive on a Windows host
        "/mnt/onboard/..\\..\\x.epub",  # separators on a Windows host
        "/mnt/../etc/passwd",
        "mnt/onboard/x.epub",
    ],
)
def test_paths_leaving_their_mount_map_to_nothing(layout: DeviceLayout, device_path: str) -> None:
    assert layout.to_host(device_path) is None


def test_an_sd_card_path_without_a_card_maps_to_nothing(tmp_path: Path) -> None:
    assert DeviceLayout(tmp_path).to_host("/mnt/sd/Emma.epub") is None


@pytest.mark.parametrize(
    "content_id",
    [
        "file:///mnt/onboard/../../../x.epub",
        "file:///mnt/sd/../x.epub",
        "../../x",  # store ContentIDs are file names in .kobo/kepub, nothing more
        "Books/x",
        "..",
        "",
    ],
)
def test_a_book_that_leads_outside_gets_a_host_path_that_is_never_a_file(
    layout: DeviceLayout, content_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    host = layout.book_host_path(content_id)
    assert layout.root in host.parents
    assert not host.parent.exists()  # nor is its folder watched
    assert "leads outside the Kobo's storage" in caplog.text


def test_store_books_are_on_the_partition_first_then_in_the_cards_kobo_ext_storage(
    layout: DeviceLayout,
) -> None:
    assert layout.sd_root is not None
    onboard = layout.root / ".kobo" / "kepub" / STORE_ID
    on_card = layout.sd_root / "koboExtStorage" / "kepub" / STORE_ID
    # Neither copy yet: the partition's path stands for the missing book.
    assert layout.book_host_path(STORE_ID) == onboard
    assert layout.book_device_path(STORE_ID) == f"/mnt/onboard/.kobo/kepub/{STORE_ID}"
    place(layout.sd_root / ".kobo" / "kepub" / STORE_ID)  # not where Nickel puts card books
    assert layout.book_host_path(STORE_ID) == onboard
    place(on_card)
    assert layout.book_host_path(STORE_ID) == on_card
    assert layout.book_device_path(STORE_ID) == f"/mnt/sd/koboExtStorage/kepub/{STORE_ID}"
    assert layout.to_device(on_card) == layout.book_device_path(STORE_ID)
    place(onboard)
    assert layout.book_host_path(STORE_ID) == onboard
    assert layout.book_device_path(STORE_ID) == f"/mnt/onboard/.kobo/kepub/{STORE_ID}"


def test_without_the_card_a_store_book_is_looked_for_on_the_partition_only(tmp_path: Path) -> None:
    layout = DeviceLayout(tmp_path / "KOBOeReader")
    place(tmp_path / "KOBOSD" / "koboExtStorage" / "kepub" / STORE_ID)
    assert layout.book_host_path(STORE_ID) == layout.root / ".kobo" / "kepub" / STORE_ID
    assert layout.book_device_path(STORE_ID) == f"/mnt/onboard/.kobo/kepub/{STORE_ID}"


def test_the_library_reports_a_book_whose_path_leaves_the_device_as_missing(tmp_path: Path) -> None:
    layout = empty_device(tmp_path / "KOBOeReader")
    escaping = "file:///mnt/onboard/../../../outside.kepub.epub"
    decoy = tmp_path / "outside.kepub.epub"  # where <root>/../../.. would have led
    write_epub(decoy, [path for path, _ in KOMGA_SPINE])
    add_kepub_book(layout.database, content_id=escaping, title="Escape", chapters=KOMGA_SPINE)
    library = NickelLibrary(layout)
    book = library.book(escaping)
    library.close()
    assert book is not None
    assert book.file_state is FileState.MISSING
    assert layout.root in book.file_path.parents
    assert book.device_path == "/mnt/onboard/../../../outside.kepub.epub"
