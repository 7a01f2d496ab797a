"""Where Nickel keeps a book's cover thumbnails.

Nickel (a Qt program) caches covers under ``.kobo-images/<a>/<b>/<ImageId> - <variant>.parsed``
on the user partition, and under ``koboExtStorage/images-cache/<a>/<b>/`` on an SD card, where
``a`` and ``b`` are the low two bytes of Qt 4's string hash of the ImageId (the hash calibre's
Kobo driver re-implements to find the same files). A sideloaded book without an ImageId gets
one from its ContentID: every ``/``, space, ``:`` and ``.`` becomes ``_`` (what the real
database shows: ``(``, ``)``, ``&`` and ``,`` stay, as calibre's Kobo driver also assumes).
"""

from __future__ import annotations

import re
from pathlib import Path

from adapters.device import DeviceLayout
from application.records import KoboBook

MAIN_CACHE = ".kobo-images"
CARD_CACHE = "koboExtStorage/images-cache"
VARIANTS = ("N3_LIBRARY_GRID", "N3_LIBRARY_FULL", "N3_LIBRARY_LIST", "N3_FULL")
"""Thumbnails first (the library grid), the full-screen cover last."""

_HASH_MASK = 0x0FFFFFFF
_HIGH_NIBBLE = 0xF0000000
_REPLACED_IN_IMAGE_ID = re.compile(r"[/ :.]")


def qt_string_hash(text: str) -> int:
    """Qt 4's ``qHash`` of a string, over its UTF-8 bytes as Nickel uses it for cover folders."""
    value = 0
    for byte in text.encode("utf-8"):
        value = (value << 4) + byte
        value ^= (value & _HIGH_NIBBLE) >> 23
        value &= _HASH_MASK
    return value


def cover_folder(image_id: str) -> Path:
    """The two-level folder (relative to the cache root) that holds this ImageId's covers."""
    value = qt_string_hash(image_id)
    return Path(str(value & 0xFF)) / str((value >> 8) & 0xFF)


def sideloaded_image_id(content_id: str) -> str:
    """Nickel's cover id of a sideloaded book: the ContentID with path punctuation made ``_``."""
    return _REPLACED_IN_IMAGE_ID.sub("_", content_id)


def image_id_of(book: KoboBook) -> str | None:
    """The book's ImageId, or the one Nickel derives from a sideloaded book's ContentID."""
    if book.image_id:
        return book.image_id
    if book.book_id.startswith("file://"):
        return sideloaded_image_id(book.book_id)
    return None


def cover_path(layout: DeviceLayout, book: KoboBook) -> str | None:
    """The on-device path of the book's best existing thumbnail, or None when Nickel made none."""
    image_id = image_id_of(book)
    if image_id is None:
        return None
    folder = cover_folder(image_id)
    caches = [layout.root / MAIN_CACHE]
    if layout.sd_root is not None:
        caches.append(layout.sd_root / CARD_CACHE)
    for cache in caches:
        for variant in VARIANTS:
            candidate = cache / folder / f"{image_id} - {variant}.parsed"
            if candidate.is_file():
                return layout.to_device(candidate)
    return None
