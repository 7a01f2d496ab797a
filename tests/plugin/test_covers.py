"""Nickel's cover thumbnails in the Kobo Library: the Lua cover rule equals the daemon's Python one,
and a long-press shows the cover from either source."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.device import DeviceLayout
from adapters.kobo.covers import (
    VARIANTS,
    cover_folder,
    cover_path,
    image_id_of,
    qt_string_hash,
    sideloaded_image_id,
)
from tests.plugin.conftest import FIXTURE_DB, PluginHarness
from tests.plugin.rpc_standin import KksyncState, StandInDaemon
from tests.unit.rpc.test_covers import book

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
STORE_BOOK = "c00698f0-3836-4428-b0fc-48354822fa80"
STORE_IMAGE_ID = "d4a982d8-5899-4a01-82df-7fa821a51733"  # its content.ImageId in the fixture
ART_OF_WAR = "Sun Tzu/Art of War, The - Sun Tzu.kepub.epub"
ART_OF_WAR_ID = "file:///mnt/onboard/" + ART_OF_WAR

UNICODE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)


def fixture_rows(sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{FIXTURE_DB}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


FIXTURE_IMAGE_IDS = [
    row[0]
    for row in fixture_rows(
        "SELECT ImageId FROM content WHERE ContentType = 6 AND BookID IS NULL AND ImageId <> ''"
    )
]
FIXTURE_CONTENT_IDS = [
    row[0] for row in fixture_rows("SELECT ContentID FROM content WHERE ContentType = 6 AND BookID IS NULL")
]
HAND_PICKED = [
    "",
    "a",
    "707b8766-e875-4b19-88b6-b2bbf4bfb75e",
    "file____mnt_onboard_kepubify_Books_converted_Patrick_Gaskin_Test_Book_1_kepub_epub",
    "Über Straße – Ærø, ça",
    "日本語の本 📚",
    "\U0010ffff" * 9,
    "ü" * 50,
    "0RDTATJQNHSQ0" * 40,
]


@pytest.fixture(scope="module")
def covers_lua(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """kksync/covers loaded once (the pure functions need no device)."""
    return PluginHarness(tmp_path_factory.mktemp("covers")).require("kksync/covers")


def assert_same_rule(covers: Any, text: str) -> None:
    assert covers.qtStringHash(text) == qt_string_hash(text), text
    assert covers.folder(text) == cover_folder(text).as_posix(), text
    assert covers.sideloadedImageId(text) == sideloaded_image_id(text), text


def test_the_fixture_has_real_image_ids_to_compare() -> None:
    assert len(FIXTURE_IMAGE_IDS) >= 30
    assert any(image_id.startswith("file____") for image_id in FIXTURE_IMAGE_IDS)


@pytest.mark.parametrize("text", FIXTURE_IMAGE_IDS + FIXTURE_CONTENT_IDS + HAND_PICKED)
def test_lua_hash_folder_and_derived_id_equal_the_daemons(covers_lua: Any, text: str) -> None:
    assert_same_rule(covers_lua, text)


@settings(max_examples=300, deadline=None)
@given(text=UNICODE_TEXT)
def test_lua_and_python_agree_on_any_text(covers_lua: Any, text: str) -> None:
    assert_same_rule(covers_lua, text)


def test_the_hash_folders_nickel_uses(covers_lua: Any) -> None:
    assert covers_lua.folder("707b8766-e875-4b19-88b6-b2bbf4bfb75e") == "149/203"
    assert (
        covers_lua.folder(
            "file____mnt_onboard_kepubify_Books_converted_Patrick_Gaskin_Test_Book_2__kepub_epub"
        )
        == "82/246"
    )


@pytest.mark.parametrize(
    ("image_id", "content_id"),
    [
        ("abc", "0RDTATJQNHSQ0"),
        (None, "0RDTATJQNHSQ0"),
        ("", "0RDTATJQNHSQ0"),
        (None, "file:///mnt/onboard/Sun Tzu/Art, of War.kepub.epub"),
        ("", "file:///mnt/sd/Ünïcode/Büch.epub"),
        ("given", "file:///mnt/onboard/x.epub"),
    ],
)
def test_the_image_id_of_a_book_is_chosen_as_the_daemon_does(
    covers_lua: Any, image_id: str | None, content_id: str
) -> None:
    assert covers_lua.imageIdOf(image_id, content_id) == image_id_of(book(content_id, image_id))


@pytest.mark.parametrize(
    "present",
    [
        (),
        (("main", "N3_FULL"),),
        (("main", "N3_FULL"), ("main", "N3_LIBRARY_LIST")),
        (("main", "N3_LIBRARY_FULL"), ("main", "N3_LIBRARY_GRID"), ("sd", "N3_LIBRARY_GRID")),
        (("sd", "N3_FULL"), ("sd", "N3_LIBRARY_LIST")),
        (("sd", "N3_FULL"), ("main", "N3_FULL")),
    ],
)
def test_the_lua_finds_the_thumbnail_the_daemon_reports(
    harness: PluginHarness, tmp_path: Path, present: tuple[tuple[str, str], ...]
) -> None:
    sd_root = tmp_path / "sd"
    layout = DeviceLayout(harness.device_root, sd_root=sd_root)
    image_id = "Über Straße 9631a073-b04b-495e-8fbd-1a7f6fa41ee2"
    caches = {"main": harness.device_root / ".kobo-images", "sd": sd_root / "koboExtStorage/images-cache"}
    for where, variant in present:
        write_cover(caches[where] / cover_folder(image_id) / f"{image_id} - {variant}.parsed")
    opts: dict[str, Any] = {"device_root": str(harness.device_root), "sd_root": str(sd_root)}
    opts["file_exists"] = harness.bridges.is_file
    locator = harness.require("kksync/covers").new(harness.lua.table_from(opts))
    found = locator.find(locator, image_id, "ignored")
    expected = cover_path(layout, book("x", image_id))
    if expected is None:
        assert found is None
        return
    local = expected.replace("/mnt/onboard/", f"{harness.device_root}/", 1)
    local = local.replace("/mnt/sd/", f"{sd_root}/", 1)
    assert found == local
    assert locator.localPath(locator, expected) == local


def write_cover(path: Path, data: bytes = JPEG) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def thumbnail(device_root: Path, image_id: str, variant: str = VARIANTS[0]) -> Path:
    """Where Nickel puts this ImageId's thumbnail, by the daemon's rule."""
    return device_root / ".kobo-images" / cover_folder(image_id) / f"{image_id} - {variant}.parsed"


def open_library(harness: PluginHarness) -> None:
    """Shows the Kobo Library and dismisses the "offline" notice the database fallback adds."""
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    notice = harness.last("InfoMessage")
    if notice is not None:
        harness.ui.UIManager.close(harness.ui.UIManager, notice)


def hold(harness: PluginHarness, title: str) -> None:
    menu = harness.last("Menu")
    for item in menu.item_table.values():
        if item.book is not None and item.book.title == title:
            menu.onMenuHold(menu, item)
            return
    raise AssertionError(f"{title!r} is not in the library")


def shown_cover(harness: PluginHarness) -> str:
    viewer = harness.last("ImageViewer")
    assert viewer is not None, "no cover was shown"
    assert viewer.image.kind == "BlitBuffer"
    assert harness.last("InfoMessage") is None  # the details are the viewer's caption, not a second box
    return str(viewer.image.source)


def cover_warnings(harness: PluginHarness) -> list[str]:
    return [line for line in harness.ui.logger.lines.values() if "cover" in line]


# From the daemon: its `cover` is an on-device path, mapped to the plugin's device root.


def test_holding_a_book_shows_the_daemons_cover_with_the_details(
    harness: PluginHarness, kksync_state: KksyncState, running_daemon: StandInDaemon
) -> None:
    cover = write_cover(thumbnail(harness.device_root, STORE_IMAGE_ID))
    emma = next(book for book in kksync_state.books if book["book_id"] == STORE_BOOK)
    emma["cover"] = cover_path(DeviceLayout(harness.device_root), book(STORE_BOOK, STORE_IMAGE_ID))
    assert emma["cover"].startswith("/mnt/onboard/.kobo-images/")
    open_library(harness)
    hold(harness, "emma")
    assert shown_cover(harness) == str(cover)
    viewer = harness.last("ImageViewer")
    assert viewer.title_text == "emma — Jane Austen (Novels #4)"
    assert "Kobo: 0.0 % (UNOPENED)" in viewer.caption
    assert "File: " in viewer.caption


def test_a_daemon_cover_missing_on_the_device_shows_the_details_only(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    open_library(harness)
    hold(harness, "Persuasion")  # its cover path names no file on this device
    assert harness.last("ImageViewer") is None
    assert "Kobo: 45.0 % (READING)" in harness.last("InfoMessage").text
    assert cover_warnings(harness) == []


def test_a_book_without_a_cover_shows_no_image_and_no_error(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    open_library(harness)
    hold(harness, "Mansfield Park")
    assert harness.last("ImageViewer") is None
    assert "Kobo: 100.0 % (FINISHED)" in harness.last("InfoMessage").text
    assert list(harness.ui.RenderImage.rendered.values()) == []
    assert cover_warnings(harness) == []


def test_an_undecodable_cover_falls_back_to_the_details_and_is_logged(
    harness: PluginHarness, kksync_state: KksyncState, running_daemon: StandInDaemon
) -> None:
    write_cover(harness.device_root / ".kobo-images/12/34/0RDT.parsed", b"not an image")
    open_library(harness)
    hold(harness, "Persuasion")
    assert harness.last("ImageViewer") is None
    assert "Kobo: 45.0 % (READING)" in harness.last("InfoMessage").text
    assert len(cover_warnings(harness)) == 1 and "0RDT.parsed" in cover_warnings(harness)[0]


# Without a daemon: the Lua finds the thumbnail from content.ImageId (the same file as above).


def place_book(harness: PluginHarness, relative: str) -> None:
    path = harness.device_root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 book")


def test_database_fallback_shows_the_thumbnail_found_from_the_image_id(
    harness: PluginHarness, fixture_db: Path
) -> None:
    place_book(harness, f".kobo/kepub/{STORE_BOOK}")
    full = write_cover(thumbnail(harness.device_root, STORE_IMAGE_ID, "N3_FULL"))
    open_library(harness)
    hold(harness, "The Seven Principles For Making Marriage Work")
    assert shown_cover(harness) == str(full)
    harness.ui.UIManager.close(harness.ui.UIManager, harness.last("ImageViewer"))
    grid = write_cover(thumbnail(harness.device_root, STORE_IMAGE_ID, "N3_LIBRARY_GRID"))
    hold(harness, "The Seven Principles For Making Marriage Work")
    assert shown_cover(harness) == str(grid)  # the library thumbnail wins over the full cover


def test_database_fallback_finds_a_sideloaded_books_thumbnail(
    harness: PluginHarness, fixture_db: Path
) -> None:
    place_book(harness, ART_OF_WAR)
    image_id = "file____mnt_onboard_Sun_Tzu_Art_of_War,_The_-_Sun_Tzu_kepub_epub"  # content.ImageId
    cover = write_cover(thumbnail(harness.device_root, image_id, "N3_LIBRARY_LIST"))
    open_library(harness)
    hold(harness, "The Art of War")
    assert shown_cover(harness) == str(cover)


def test_database_fallback_without_a_thumbnail_shows_no_image_and_no_error(
    harness: PluginHarness, fixture_db: Path
) -> None:
    place_book(harness, ART_OF_WAR)
    open_library(harness)
    hold(harness, "The Art of War")
    assert harness.last("ImageViewer") is None
    assert "The Art of War" in harness.last("InfoMessage").text
    assert list(harness.ui.RenderImage.rendered.values()) == []
    assert cover_warnings(harness) == []
