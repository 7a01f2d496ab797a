"""The shared DRM rule, and the two places that apply it agreeing on every tricky encryption.xml."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from adapters.epub.archive import BookArchive
from adapters.epub.encryption import encryption_member, encryption_problem, rights_problem
from adapters.kobo.files import file_state
from application.errors import EncryptedBook
from application.records import BookKind, FileState

IDPF = "http://www.idpf.org/2008/embedding"
ADOBE = "http://ns.adobe.com/pdf/enc#RC"
AES = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
OCF = "urn:oasis:names:tc:opendocument:xmlns:container"
XMLENC = "http://www.w3.org/2001/04/xmlenc#"


def entry(algorithm: str, uri: str) -> str:
    return (
        f'<enc:EncryptedData><enc:EncryptionMethod Algorithm="{algorithm}"/>'
        f'<enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData>'
    )


def document(*entries: str, root: str = f'encryption xmlns="{OCF}"', enc: str = XMLENC) -> bytes:
    name = root.split()[0]
    return (f'<?xml version="1.0"?>\n<{root} xmlns:enc="{enc}">{"".join(entries)}</{name}>\n').encode()


FONTS = document(entry(IDPF, "OEBPS/Fonts/Serif.otf"), entry(ADOBE, "OEBPS/Fonts/My%20Sans.TTF"))
NBSP = FONTS.replace(b"</enc:EncryptedData>", b"&nbsp;</enc:EncryptedData>", 1)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(FONTS, id="idpf-and-adobe-fonts"),
        pytest.param(document(entry(IDPF, "f/a.woff"), entry(IDPF, "f/b.woff2?v=1#x")), id="woff"),
        pytest.param(document(), id="lists-nothing"),
        pytest.param(NBSP, id="html-entity-recovered"),
        pytest.param(FONTS.replace(b"enc:", b"x:").replace(b"xmlns:enc", b"xmlns:x"), id="other-prefix"),
        pytest.param(FONTS.replace(b"?>\n", b"?>\n<!DOCTYPE encryption>\n", 1), id="doctype-alone"),
    ],
)
def test_obfuscated_fonts_alone_are_no_problem(data: bytes) -> None:
    assert encryption_problem(data) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            document(entry(IDPF, "OEBPS/Fonts/Serif.otf"), entry(AES, "OEBPS/a.xhtml")),
            "'OEBPS/a.xhtml' is encrypted with 'http://www.w3.org/2001/04/xmlenc#aes128-cbc'",
            id="mixed-fonts-and-aes-chapter",
        ),
        pytest.param(document(entry(AES, "f/Serif.otf")), "'f/Serif.otf' is encrypted with", id="aes-font"),
        pytest.param(
            document(entry(IDPF, "f/Serif.otf"), entry(IDPF, "OEBPS/a.xhtml")),
            "'OEBPS/a.xhtml' is obfuscated but is not a font",
            id="obfuscated-xhtml",
        ),
        pytest.param(document(entry(ADOBE, "i/cover.jpg")), "is obfuscated but is not a font", id="image"),
        pytest.param(document(entry(IDPF, "//[x/a.otf")), "is obfuscated but is not a font", id="bad-url"),
        pytest.param(
            document(entry(IDPF, "f/a.otf").replace(' Algorithm="' + IDPF + '"', "")),
            "without an algorithm or a URI",
            id="no-algorithm",
        ),
        pytest.param(
            document(entry(IDPF, "f/a.otf").replace("CipherData>", "Other>")),
            "without an algorithm or a URI",
            id="no-cipher-reference",
        ),
        pytest.param(
            document(entry(IDPF, "f/a.otf"), root="encryption"), "not an OCF encryption document", id="no-ns"
        ),
        pytest.param(
            document(entry(IDPF, "f/a.otf"), root='html xmlns="http://www.w3.org/1999/xhtml"'),
            "cut off",  # an HTML error page does not even end like an encryption document
            id="html-page",
        ),
        pytest.param(
            document(entry(IDPF, "f/a.otf"), root='encryption xmlns="urn:example"'),
            "not an OCF encryption document",
            id="other-root-namespace",
        ),
        pytest.param(
            FONTS.replace(f' xmlns:enc="{XMLENC}"'.encode(), b""),
            "outside the XML-Encryption namespace",
            id="undeclared-prefix",
        ),
        pytest.param(
            document(entry(IDPF, "f/a.otf"), enc="urn:example"),
            "outside the XML-Encryption namespace",
            id="other-entry-namespace",
        ),
        pytest.param(FONTS[: FONTS.index(b"</encryption>")], "cut off", id="cut-off-after-an-entry"),
        pytest.param(FONTS[:60], "cut off", id="cut-off-in-the-root-tag"),
        pytest.param(b"", "cut off", id="empty"),
        pytest.param(b"\x00\x01\x02 garbage encryption>", "cannot be parsed", id="garbage"),
        pytest.param(b"   </encryption>", "cannot be parsed", id="only-an-end-tag"),
        pytest.param(
            FONTS.replace(b"?>\n", b'?>\n<!DOCTYPE encryption [<!ENTITY more "<x/>">]>\n', 1).replace(
                b"</encryption>", b"&more;</encryption>"
            ),
            "declares its own entities",
            id="entity-declaration",
        ),
    ],
)
def test_anything_else_is_a_problem_with_its_reason(data: bytes, reason: str) -> None:
    problem = encryption_problem(data)
    assert problem is not None and reason in problem


def test_reasons_are_one_short_line_whatever_the_book_names() -> None:
    problem = encryption_problem(document(entry(AES, "a&#10;b" + "x" * 5000 + ".xhtml")))
    assert problem is not None and "\n" not in problem and len(problem) < 400


def test_rights_xml_in_any_case_is_drm() -> None:
    assert rights_problem(["mimetype", "META-INF/rights.xml"]) is not None
    assert rights_problem(["meta-inf/Rights.XML"]) == "'meta-inf/Rights.XML' holds a DRM licence"
    assert rights_problem(["mimetype", "META-INF/rights.xml.bak", "OEBPS/META-INF/rights.xml"]) is None


def test_encryption_member_prefers_the_exact_spelling_then_any_case() -> None:
    assert (
        encryption_member(["meta-inf/ENCRYPTION.xml", "META-INF/encryption.xml"]) == "META-INF/encryption.xml"
    )
    assert encryption_member(["mimetype", "Meta-Inf/Encryption.xml"]) == "Meta-Inf/Encryption.xml"
    assert encryption_member(["mimetype", "OEBPS/encryption.xml"]) is None


def write_book(path: Path, extra: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"application/epub+zip")
        archive.writestr("OEBPS/a.xhtml", b"<html><body><p>Text.</p></body></html>")
        for name, data in extra.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("extra", "encrypted"),
    [
        pytest.param({"META-INF/encryption.xml": FONTS}, False, id="fonts-only"),
        pytest.param({"META-INF/encryption.xml": NBSP}, False, id="nbsp-entity"),
        pytest.param(
            {"META-INF/encryption.xml": document(entry(IDPF, "f/a.otf"), entry(AES, "OEBPS/a.xhtml"))},
            True,
            id="mixed",
        ),
        pytest.param(
            {"META-INF/encryption.xml": document(entry(IDPF, "OEBPS/a.xhtml"))}, True, id="obfuscated-xhtml"
        ),
        pytest.param({"META-INF/encryption.xml": document(entry(AES, "f/a.otf"))}, True, id="aes-font"),
        pytest.param({"META-INF/encryption.xml": FONTS[:-20]}, True, id="truncated"),
        pytest.param({"META-INF/encryption.xml": b"\x00\x01 garbage </encryption>"}, True, id="garbage"),
        pytest.param(
            {"META-INF/encryption.xml": document(entry(IDPF, "f/a.otf"), root="encryption")},
            True,
            id="non-ocf-root",
        ),
        pytest.param({"Meta-Inf/Encryption.XML": NBSP}, False, id="fonts-only-in-odd-case"),
        pytest.param(
            {"meta-inf/Rights.xml": b"<rights/>", "META-INF/encryption.xml": FONTS}, True, id="rights"
        ),
    ],
)
def test_the_reader_and_the_device_scan_agree(
    tmp_path: Path, extra: dict[str, bytes], encrypted: bool
) -> None:
    book = write_book(tmp_path / "tricky.epub", extra)
    expected = FileState.ENCRYPTED if encrypted else FileState.READABLE
    assert file_state(book, BookKind.EPUB) is expected
    with BookArchive(book, max_entry_bytes=1_000_000) as archive:
        if encrypted:
            with pytest.raises(EncryptedBook, match=r"^tricky\.epub: the book is DRM-protected \(.+\)$"):
                archive.check_not_encrypted()
        else:
            archive.check_not_encrypted()


def test_an_encryption_xml_past_the_readers_entry_cap_counts_as_drm(tmp_path: Path) -> None:
    book = write_book(tmp_path / "big.epub", {"META-INF/encryption.xml": FONTS})
    with (
        BookArchive(book, max_entry_bytes=len(FONTS) - 1) as archive,
        pytest.raises(EncryptedBook, match=r"big\.epub.*larger than"),
    ):
        archive.check_not_encrypted()
    with BookArchive(book, max_entry_bytes=len(FONTS)) as archive:
        archive.check_not_encrypted()
