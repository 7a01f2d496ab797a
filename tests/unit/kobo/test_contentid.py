from __future__ import annotations

import pytest

from adapters.kobo.contentid import book_kind, book_source, chapter_content_id, chapter_zip_path
from application.records import BookKind, BookSource

UUID = "c00698f0-3836-4428-b0fc-48354822fa80"


@pytest.mark.parametrize(
    ("content_id", "entitlement", "source"),
    [
        ("0RDTATJQNHSQ0", "0RDTATJQNHSQ0", BookSource.KOMGA),
        ("0rdtatjqnhsq0", None, BookSource.KOMGA),
        (UUID, UUID, BookSource.CALIBRE_WEB),
        (UUID, UUID.upper(), BookSource.CALIBRE_WEB),
        (UUID, "c10eb3a7-d7da-47ad-9b1a-c0ba7e2a6dff", BookSource.KOBO_STORE),
        (UUID, "", BookSource.KOBO_STORE),
        (UUID, None, BookSource.KOBO_STORE),
        ("file:///mnt/onboard/a.kepub.epub", "", BookSource.SIDELOADED),
        ("file:///mnt/sd/b.pdf", None, BookSource.SIDELOADED),
        ("/mnt/onboard/no-scheme.epub", None, BookSource.SIDELOADED),
        ("0RDTATJQNHSQU", None, BookSource.KOBO_STORE),  # U is not Crockford base32
        ("0RDTATJQNHSQ", None, BookSource.KOBO_STORE),  # 12 characters
        ("some-server-id", "some-server-id", BookSource.CALIBRE_WEB),
        ("some-store-id", "other", BookSource.KOBO_STORE),
    ],
)
def test_source_from_content_id_and_entitlement(
    content_id: str, entitlement: str | None, source: BookSource
) -> None:
    assert book_source(content_id, entitlement) is source


@pytest.mark.parametrize(
    ("mime", "kind"),
    [
        ("application/x-kobo-epub+zip", BookKind.KEPUB),
        ("application/epub+zip", BookKind.EPUB),
        ("application/pdf", BookKind.PDF),
        ("APPLICATION/PDF", BookKind.PDF),
        ("application/x-cbz", BookKind.OTHER),
        (None, BookKind.OTHER),
    ],
)
def test_kind_from_mime_type(mime: str | None, kind: BookKind) -> None:
    assert book_kind(mime) is kind


@pytest.mark.parametrize(
    ("book_id", "chapter_id", "zip_path"),
    [
        (UUID, f"{UUID}!OEBPS!Text/12_Chapter05.xhtml", "OEBPS/Text/12_Chapter05.xhtml"),
        (
            "file:///mnt/onboard/A/B.kepub.epub",
            "/mnt/onboard/A/B.kepub.epub!!epub/text/ch-1.xhtml",
            "epub/text/ch-1.xhtml",
        ),
        (
            "file:///mnt/onboard/Wow!/Hey!.kepub.epub",
            "/mnt/onboard/Wow!/Hey!.kepub.epub!OPS!a b!c.xhtml",
            "OPS/a b!c.xhtml",
        ),
        (UUID, f"{UUID}!!index_split_004.html", "index_split_004.html"),
        ("other", f"{UUID}!OEBPS!x.xhtml", "OEBPS/x.xhtml"),  # foreign prefix: split from the right
        (UUID, f"{UUID}#(3)OEBPS/cha01.xhtml", None),
        (UUID, f"{UUID}!OEBPS!", None),
    ],
)
def test_chapter_zip_path(book_id: str, chapter_id: str, zip_path: str | None) -> None:
    assert chapter_zip_path(book_id, chapter_id) == zip_path


def test_chapter_content_id_round_trips_for_both_book_parts() -> None:
    sideloaded = "file:///mnt/onboard/x y.kepub.epub"
    made = chapter_content_id(sideloaded, "OEBPS", "Text/a.xhtml")
    assert made == "/mnt/onboard/x y.kepub.epub!OEBPS!Text/a.xhtml"
    assert chapter_zip_path(sideloaded, made) == "OEBPS/Text/a.xhtml"
    assert chapter_content_id(UUID, "", "a.html") == f"{UUID}!!a.html"
