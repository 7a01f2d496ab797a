"""Nickel's cover thumbnail locations: Qt's string hash picks the two folder levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.kobo.covers import cover_folder, cover_path, image_id_of, qt_string_hash
from application.records import BookKind, BookSource, FileState, KoboBook


def book(book_id: str, image_id: str | None = None) -> KoboBook:
    return KoboBook(
        book_id=book_id,
        title="T",
        author=None,
        series=None,
        source=BookSource.KOMGA,
        kind=BookKind.KEPUB,
        device_path="/mnt/onboard/.kobo/kepub/" + book_id,
        file_path=Path("/nonexistent"),
        file_state=FileState.MISSING,
        image_id=image_id,
    )


@pytest.mark.parametrize(
    ("image_id", "folder"),
    [
        # Folders seen on devices and in other tools that read Nickel's cover cache.
        ("707b8766-e875-4b19-88b6-b2bbf4bfb75e", "149/203"),
        ("file____mnt_onboard_kepubify_Books_converted_Patrick_Gaskin_Test_Book_1_kepub_epub", "210/143"),
        ("file____mnt_onboard_kepubify_Books_converted_Patrick_Gaskin_Test_Book_2__kepub_epub", "82/246"),
    ],
)
def test_cover_folders_match_nickels(image_id: str, folder: str) -> None:
    assert cover_folder(image_id) == Path(folder)


def test_the_hash_stays_within_28_bits() -> None:
    assert qt_string_hash("") == 0
    assert all(qt_string_hash(text * 50) < 2**28 for text in ("a", "ü", "0RDTATJQNHSQ0"))


def test_a_sideloaded_book_without_image_id_gets_nickels_derived_one() -> None:
    sideloaded = book("file:///mnt/onboard/Sun Tzu/Art, of War.kepub.epub")
    assert image_id_of(sideloaded) == "file____mnt_onboard_Sun_Tzu_Art,_of_War_kepub_epub"
    assert image_id_of(book("0RDTATJQNHSQ0")) is None
    assert image_id_of(book("0RDTATJQNHSQ0", image_id="abc")) == "abc"


def test_the_best_existing_thumbnail_is_reported_as_an_on_device_path(tmp_path: Path) -> None:
    layout = DeviceLayout(tmp_path)
    image_id = "707b8766-e875-4b19-88b6-b2bbf4bfb75e"
    folder = tmp_path / ".kobo-images" / "149" / "203"
    folder.mkdir(parents=True)
    assert cover_path(layout, book("x", image_id)) is None
    (folder / f"{image_id} - N3_FULL.parsed").write_bytes(b"\xff\xd8\xff")
    assert (
        cover_path(layout, book("x", image_id))
        == f"/mnt/onboard/.kobo-images/149/203/{image_id} - N3_FULL.parsed"
    )
    (folder / f"{image_id} - N3_LIBRARY_GRID.parsed").write_bytes(b"\xff\xd8\xff")
    best = cover_path(layout, book("x", image_id))
    assert best is not None and best.endswith("N3_LIBRARY_GRID.parsed")


def test_a_cover_on_the_sd_card_is_found_in_its_cache(tmp_path: Path) -> None:
    layout = DeviceLayout(tmp_path / "main", sd_root=tmp_path / "sd")
    image_id = "file____mnt_onboard_kepubify_Books_converted_Patrick_Gaskin_Test_Book_2__kepub_epub"
    folder = tmp_path / "sd" / "koboExtStorage" / "images-cache" / "82" / "246"
    folder.mkdir(parents=True)
    (folder / f"{image_id} - N3_LIBRARY_LIST.parsed").write_bytes(b"x")
    found = cover_path(layout, book("x", image_id))
    assert found == f"/mnt/sd/koboExtStorage/images-cache/82/246/{image_id} - N3_LIBRARY_LIST.parsed"
