"""Real-world EPUB oddities: the spine, DocFragment numbers and sizes still come out right."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from application.errors import BookContentError, EncryptedBook
from entrypoints.demo.kepub_builder import build_epub
from entrypoints.demo.sample_books import sample_book
from tests.integration.epub.zips import container, opf, write_zip, xhtml

CHAPTER = xhtml("<p>Some text.</p>")


def spine_of(path: Path) -> list[tuple[str, int, int, bool]]:
    return [(i.zip_path, i.fragment_index, i.size, i.linear) for i in EpubContent().open(path).spine]


def test_opf_at_the_zip_root(tmp_path: Path) -> None:
    book = build_epub(sample_book(1, chapters=2, opf_dir=""), tmp_path / "root.epub")
    document = EpubContent().open(book)
    assert [i.zip_path for i in document.spine] == [
        "Text/cover.xhtml",
        "Text/chapter01.xhtml",
        "Text/chapter02.xhtml",
    ]
    with zipfile.ZipFile(book) as archive:
        assert [i.size for i in document.spine] == [
            archive.getinfo(i.zip_path).file_size for i in document.spine
        ]


def test_parent_relative_hrefs_spaces_and_percent_encoding(tmp_path: Path) -> None:
    book = write_zip(
        tmp_path / "hrefs.epub",
        {
            "META-INF/container.xml": container("OPS/package/content.opf"),
            "OPS/package/content.opf": opf(
                [
                    ("a", "../text/one.xhtml"),
                    ("b", "../text/chapter%202.xhtml"),
                    ("c", "../text/my file.xhtml"),
                ],
                ["a", "b", "c"],
            ),
            "OPS/text/one.xhtml": CHAPTER,
            "OPS/text/chapter 2.xhtml": CHAPTER * 2,
            "OPS/text/my file.xhtml": CHAPTER,
        },
    )
    assert spine_of(book) == [
        ("OPS/text/one.xhtml", 1, len(CHAPTER), True),
        ("OPS/text/chapter 2.xhtml", 2, 2 * len(CHAPTER), True),
        ("OPS/text/my file.xhtml", 3, len(CHAPTER), True),
    ]


def test_itemrefs_without_manifest_entries_take_no_fragment_but_non_linear_items_do(tmp_path: Path) -> None:
    book = write_zip(
        tmp_path / "spine.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "content.opf": opf(
                [("cover", "cover.xhtml"), ("one", "one.xhtml"), ("two", "two.xhtml")],
                [("cover", "no"), "ghost", "one", "missing-too", "two"],
                prefix="opf:",
            ),
            "cover.xhtml": CHAPTER,
            "one.xhtml": CHAPTER,
            "two.xhtml": CHAPTER,
        },
    )
    assert [(p, n, linear) for p, n, _, linear in spine_of(book)] == [
        ("cover.xhtml", 1, False),
        ("one.xhtml", 2, True),
        ("two.xhtml", 3, True),
    ]
    target = EpubContent().open(book).locate("/body/DocFragment[3]/body/p/text().5")
    assert target is not None and (target.spine_index, target.resolved) == (2, True)


def test_items_pointing_outside_the_book_still_take_their_fragment_number(tmp_path: Path) -> None:
    """crengine gives every itemref with a manifest entry a DocFragment, a placeholder if need be."""
    book = write_zip(
        tmp_path / "remote.epub",
        {
            "META-INF/container.xml": container("OEBPS/content.opf"),
            "OEBPS/content.opf": opf(
                [("remote", "https://example.com/ad.xhtml"), ("out", "../../out.xhtml"), ("a", "a.xhtml")],
                ["remote", "out", "a"],
            ),
            "OEBPS/a.xhtml": CHAPTER,
        },
    )
    assert spine_of(book) == [("OEBPS/a.xhtml", 3, len(CHAPTER), True)]
    document = EpubContent().open(book)
    assert document.chapter_xpointer("OEBPS/a.xhtml") == "/body/DocFragment[3]/body"
    target = document.locate("/body/DocFragment[3]/body/p/text().5")
    assert target is not None and (target.spine_index, target.resolved) == (0, True)
    assert document.locate("/body/DocFragment[1]/body/p") is None  # a placeholder: nothing to read


def test_missing_container_and_a_container_naming_no_file_both_find_the_opf(tmp_path: Path) -> None:
    entries = {"OEBPS/book.opf": opf([("a", "a.xhtml")], ["a"]), "OEBPS/a.xhtml": CHAPTER}
    no_container = write_zip(tmp_path / "no-container.epub", entries)
    wrong = write_zip(tmp_path / "wrong.epub", {"META-INF/container.xml": container("nope.opf"), **entries})
    assert spine_of(no_container) == spine_of(wrong) == [("OEBPS/a.xhtml", 1, len(CHAPTER), True)]


def test_href_case_differing_from_the_entry_name_uses_the_entry_name(tmp_path: Path) -> None:
    book = write_zip(
        tmp_path / "case.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "content.opf": opf([("a", "Text/A.xhtml")], ["a"]),
            "text/a.xhtml": CHAPTER,
        },
    )
    assert spine_of(book) == [("text/a.xhtml", 1, len(CHAPTER), True)]


def test_spine_file_missing_from_the_zip_keeps_its_fragment_as_an_empty_chapter(tmp_path: Path) -> None:
    book = write_zip(
        tmp_path / "hole.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "content.opf": opf([("a", "a.xhtml"), ("b", "b.xhtml"), ("c", "c.xhtml")], ["a", "b", "c"]),
            "a.xhtml": CHAPTER,
            "c.xhtml": CHAPTER,
        },
    )
    document = EpubContent().open(book)
    assert [(i.fragment_index, i.size) for i in document.spine] == [
        (1, len(CHAPTER)),
        (2, 0),
        (3, len(CHAPTER)),
    ]
    target = document.locate("/body/DocFragment[2]/body")
    assert target is not None and (target.spine_index, target.fraction, target.span) == (1, 0.0, None)


@pytest.mark.parametrize(
    "chapter",
    [
        pytest.param(
            b"\xef\xbb\xbf" + xhtml("<p>Caf&eacute;&nbsp;one.</p><p>Two &amp; three.</p>"), id="bom+entities"
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
            b'"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd"><html xmlns="http://www.w3.org/1999/xhtml">'
            b"<body><p>Caf\xc3\xa9\xc2\xa0one.</p><p>Two &amp; three.</p></body></html>",
            id="doctype",
        ),
        pytest.param(
            b"<html><body><p>Caf&eacute;&nbsp;one.<p>Two &amp; three.</body></html>", id="not-well-formed"
        ),
        pytest.param(
            b'<x:html xmlns:x="http://www.w3.org/1999/xhtml"><x:body><x:p>Caf\xc3\xa9\xc2\xa0one.</x:p>'
            b"<x:p>Two &amp; three.</x:p></x:body></x:html>",
            id="prefixed-namespace",
        ),
    ],
)
def test_plain_chapters_in_odd_markup_give_the_same_positions(tmp_path: Path, chapter: bytes) -> None:
    book = write_zip(
        tmp_path / "odd.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "content.opf": opf([("a", "a.xhtml")], ["a"]),
            "a.xhtml": chapter,
        },
    )
    document = EpubContent().open(book)
    assert not document.has_spans()
    assert document.chapter_xpointer("a.xhtml") == "/body/DocFragment/body"
    assert document.span_at("a.xhtml", 0.5) is None
    total = len("Café\u00a0one.") + len("Two & three.")
    for xpointer, chars in [
        ("/body/DocFragment/body/p[2]", 9),
        ("/body/DocFragment/body/p[2]/text().4", 13),
        ("/body/DocFragment[1]/body[1]/p[1]/text()[1].5", 5),
    ]:
        target = document.locate(xpointer)
        assert target is not None
        assert (target.spine_index, target.span, target.resolved) == (0, None, True)
        assert target.fraction == pytest.approx(chars / total)


def test_font_obfuscation_is_not_drm(tmp_path: Path) -> None:
    encryption = (
        b'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        b'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        b'<enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>'
        b'<enc:CipherData><enc:CipherReference URI="fonts/a.otf"/></enc:CipherData></enc:EncryptedData>'
        b"</encryption>"
    )
    book = write_zip(
        tmp_path / "fonts.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "META-INF/encryption.xml": encryption,
            "content.opf": opf([("a", "a.xhtml")], ["a"]),
            "a.xhtml": CHAPTER,
        },
    )
    assert spine_of(book) == [("a.xhtml", 1, len(CHAPTER), True)]
    adept = encryption.replace(
        b"http://www.idpf.org/2008/embedding", b"http://www.w3.org/2001/04/xmlenc#aes128-cbc"
    )
    drm = write_zip(
        tmp_path / "adept.epub",
        {
            "META-INF/container.xml": container("content.opf"),
            "META-INF/encryption.xml": adept,
            "content.opf": opf([("a", "a.xhtml")], ["a"]),
            "a.xhtml": CHAPTER,
        },
    )
    with pytest.raises(EncryptedBook, match=r"adept\.epub.*aes128-cbc"):
        EpubContent().open(drm)


def test_ciphertext_chapters_without_encryption_xml_are_drm(tmp_path: Path) -> None:
    noise = bytes((i * 131 + 7) % 256 for i in range(4096))
    book = write_zip(
        tmp_path / "store.kepub",
        {
            "META-INF/container.xml": container("content.opf"),
            "content.opf": opf([("a", "a.xhtml")], ["a"]),
            "a.xhtml": noise,
        },
    )
    with pytest.raises(EncryptedBook, match=r"store\.kepub"):
        EpubContent().open(book)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("text.epub", b"this is not a zip at all", "not a readable EPUB zip"),
        ("empty.epub", b"", "not a readable EPUB zip"),
    ],
)
def test_files_that_are_not_zips(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(BookContentError, match=f"{name}.*{message}"):
        EpubContent().open(path)


def damage_directory_record(path: Path, name: bytes, edit: Callable[[bytearray, int], None]) -> None:
    """Apply ``edit(data, start)`` to the central directory record of the member ``name``."""
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    while start != -1:
        if data[start + 46 : start + 46 + len(name)] == name:
            edit(data, start)
        start = data.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(data))


def test_a_member_name_that_is_not_the_utf8_it_claims_is_a_damaged_zip(tmp_path: Path) -> None:
    """zipfile raises ValueError (UnicodeDecodeError) for it while reading the directory."""

    def claim_utf8_but_write_latin1(data: bytearray, start: int) -> None:
        data[start + 9] |= 0x08  # bit 11 of the flags (their second byte): the name is UTF-8
        data[start + 46] = 0xE9  # "é" in Latin-1 starts no valid UTF-8 sequence

    book = write_zip(
        tmp_path / "latin1.epub",
        {"content.opf": opf([("a", "a.xhtml")], ["a"]), "a.xhtml": CHAPTER},
    )
    damage_directory_record(book, b"a.xhtml", claim_utf8_but_write_latin1)
    with pytest.raises(BookContentError, match=r"latin1\.epub: not a readable EPUB zip"):
        EpubContent().open(book)


def test_a_member_cut_short_is_a_damaged_zip(tmp_path: Path) -> None:
    """zipfile raises EOFError when a stored member's data ends before its recorded size."""

    def claim_more_than_there_is(data: bytearray, start: int) -> None:
        data[start + 20 : start + 28] = (100_000).to_bytes(4, "little") * 2

    book = tmp_path / "short.epub"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.xhtml", CHAPTER)
        archive.writestr("content.opf", opf([("a", "a.xhtml")], ["a"]))
    damage_directory_record(book, b"content.opf", claim_more_than_there_is)
    with pytest.raises(BookContentError, match=r"short\.epub: cannot read 'content\.opf'"):
        EpubContent().open(book)


def test_zip_without_opf_or_with_an_empty_spine(tmp_path: Path) -> None:
    no_opf = write_zip(tmp_path / "no-opf.epub", {"a.xhtml": CHAPTER})
    with pytest.raises(BookContentError, match=r"no-opf\.epub: no OPF"):
        EpubContent().open(no_opf)
    empty = write_zip(tmp_path / "empty-spine.epub", {"content.opf": opf([("a", "a.xhtml")], ["zzz"])})
    with pytest.raises(BookContentError, match=r"empty-spine\.epub.*empty spine"):
        EpubContent().open(empty)


def test_zip_bomb_chapter_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.epub"
    opf_bytes = opf([("a", "a.xhtml")], ["a"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"application/epub+zip")
        archive.writestr("META-INF/container.xml", container("content.opf"))
        archive.writestr("content.opf", opf_bytes)
        with archive.open("a.xhtml", "w") as entry:
            entry.write(b"<html><body><p>")
            for _ in range(200):
                entry.write(b" " * 1_000_000)
    started = time.perf_counter()
    document = EpubContent(max_entry_bytes=8_000_000).open(path)
    with pytest.raises(BookContentError, match=r"bomb\.epub.*a\.xhtml.*8000000"):
        document.span_at("a.xhtml", 0.5)
    assert time.perf_counter() - started < 2.0


def test_zip_bomb_with_a_lying_header_is_refused_by_bytes_read(tmp_path: Path) -> None:
    path = tmp_path / "liar.epub"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/container.xml", container("content.opf"))
        archive.writestr("content.opf", b" " * 50_000_000)
    data = bytearray(path.read_bytes())
    name = b"content.opf"
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if data[start + name_at : start + name_at + len(name)] == name:
                data[start + size_at : start + size_at + 4] = (100).to_bytes(4, "little")
            start += 4
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("content.opf").file_size == 100
    started = time.perf_counter()
    with pytest.raises(BookContentError, match=r"liar\.epub"):
        EpubContent(max_entry_bytes=1_000_000).open(path)
    assert time.perf_counter() - started < 2.0
