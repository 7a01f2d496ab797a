from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.kobo import files
from adapters.kobo.files import file_state
from application.records import BookKind, FileState
from tests.support.nickel import write_epub

IDPF = "http://www.idpf.org/2008/embedding"
ADOBE = "http://ns.adobe.com/pdf/enc#RC"
AES = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
NAMESPACES = (
    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#"'
)


def entry(algorithm: str, uri: str) -> str:
    return (
        f'<enc:EncryptedData><enc:EncryptionMethod Algorithm="{algorithm}"/>'
        f'<enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData>'
    )


def encryption_xml(*entries: str) -> str:
    return f'<?xml version="1.0"?>\n<encryption {NAMESPACES}>{"".join(entries)}</encryption>\n'


FONTS_ONLY = encryption_xml(entry(IDPF, "OEBPS/Fonts/Serif.otf"), entry(ADOBE, "OEBPS/Fonts/My%20Sans.TTF"))


def state_with(tmp_path: Path, extra: dict[str, str]) -> FileState:
    book = tmp_path / "book.epub"
    write_epub(book, ["OEBPS/a.xhtml"], extra=extra)
    return file_state(book, BookKind.EPUB)


def test_epub_states(tmp_path: Path) -> None:
    plain = tmp_path / "plain.epub"
    write_epub(plain, ["OEBPS/a.xhtml"])
    broken = tmp_path / "broken.epub"
    broken.write_bytes(b"<html>not a zip</html>")
    assert file_state(plain, BookKind.KEPUB) is FileState.READABLE
    assert file_state(plain, BookKind.EPUB, has_content_keys=True) is FileState.ENCRYPTED
    assert file_state(broken, BookKind.KEPUB) is FileState.UNREADABLE
    assert file_state(tmp_path / "gone.epub", BookKind.KEPUB) is FileState.MISSING
    assert file_state(tmp_path, BookKind.KEPUB) is FileState.MISSING  # a folder is no book file


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(FONTS_ONLY, id="idpf-and-adobe-fonts"),
        pytest.param(encryption_xml(), id="lists-nothing"),
        pytest.param(
            FONTS_ONLY.replace("</enc:EncryptedData>", "&nbsp;</enc:EncryptedData>", 1), id="recovered"
        ),
    ],
)
def test_font_obfuscation_alone_is_readable(tmp_path: Path, document: str) -> None:
    assert state_with(tmp_path, {"META-INF/encryption.xml": document}) is FileState.READABLE


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            encryption_xml(entry(IDPF, "OEBPS/Fonts/Serif.otf"), entry(AES, "OEBPS/a.xhtml")),
            id="mixed-fonts-and-aes-chapter",
        ),
        pytest.param(encryption_xml(entry(AES, "OEBPS/Fonts/Serif.otf")), id="aes-font"),
        pytest.param(
            encryption_xml(entry(IDPF, "OEBPS/Fonts/Serif.otf"), entry(IDPF, "OEBPS/a.xhtml")),
            id="obfuscated-xhtml",
        ),
        pytest.param(encryption_xml(entry(ADOBE, "OEBPS/images/cover.jpg")), id="obfuscated-image"),
    ],
)
def test_anything_beyond_obfuscated_fonts_is_encrypted(tmp_path: Path, document: str) -> None:
    assert state_with(tmp_path, {"META-INF/encryption.xml": document}) is FileState.ENCRYPTED


def test_rights_xml_is_drm_even_when_encryption_xml_only_lists_fonts(tmp_path: Path) -> None:
    assert state_with(tmp_path, {"META-INF/rights.xml": "<rights/>"}) is FileState.ENCRYPTED
    both = {"META-INF/rights.xml": "<rights/>", "META-INF/encryption.xml": FONTS_ONLY}
    assert state_with(tmp_path, both) is FileState.ENCRYPTED
    assert state_with(tmp_path, {"meta-inf/Rights.xml": "<rights/>"}) is FileState.ENCRYPTED


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("\x00\x01 not XML at all", id="binary"),
        pytest.param("", id="empty-file"),
        pytest.param("<html><body>Not found</body></html>", id="html"),
        pytest.param("<encryption/>", id="no-ocf-namespace"),
        pytest.param(FONTS_ONLY[: FONTS_ONLY.index("</encryption>")], id="cut-off-after-an-entry"),
        pytest.param(FONTS_ONLY[:60], id="cut-off-in-the-root-tag"),
        pytest.param(
            FONTS_ONLY.replace(NAMESPACES, 'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"'),
            id="undeclared-enc-prefix",
        ),
        pytest.param(
            encryption_xml(entry(IDPF, "OEBPS/Fonts/Serif.otf").replace("CipherData>", "Other>")),
            id="no-cipher-reference",
        ),
        pytest.param(
            encryption_xml("<enc:EncryptedData><enc:CipherData/></enc:EncryptedData>"), id="no-method"
        ),
    ],
)
def test_an_encryption_xml_that_cannot_be_understood_counts_as_drm(tmp_path: Path, document: str) -> None:
    assert state_with(tmp_path, {"META-INF/encryption.xml": document}) is FileState.ENCRYPTED


def test_an_encryption_xml_past_the_size_cap_counts_as_drm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_ENCRYPTION_XML_BYTES", len(FONTS_ONLY) - 1)
    assert state_with(tmp_path, {"META-INF/encryption.xml": FONTS_ONLY}) is FileState.ENCRYPTED
    monkeypatch.setattr(files, "MAX_ENCRYPTION_XML_BYTES", len(FONTS_ONLY))
    assert state_with(tmp_path, {"META-INF/encryption.xml": FONTS_ONLY}) is FileState.READABLE


def damage_directory_records(path: Path, edit: Callable[[bytearray, int], None]) -> None:
    """Apply ``edit(data, start)`` to every central directory record of the zip."""
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    while start != -1:
        edit(data, start)
        start = data.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(data))


def needs_zip_version_9_9(data: bytearray, start: int) -> None:
    data[start + 6] = 99  # zipfile raises NotImplementedError for versions it does not know


def names_invalid_utf8(data: bytearray, start: int) -> None:
    data[start + 9] |= 0x08  # the UTF-8 flag; then zipfile raises ValueError (UnicodeDecodeError)
    data[start + 46] = 0xE9


@pytest.mark.parametrize("damage", [needs_zip_version_9_9, names_invalid_utf8])
def test_a_damaged_zip_directory_is_unreadable_not_an_error(
    tmp_path: Path, damage: Callable[[bytearray, int], None]
) -> None:
    book = tmp_path / "book.epub"
    write_epub(book, ["OEBPS/a.xhtml"])
    damage_directory_records(book, damage)
    assert file_state(book, BookKind.EPUB) is FileState.UNREADABLE


def test_pdf_states(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7\n...")
    fake = tmp_path / "b.pdf"
    fake.write_bytes(b"<html>")
    assert file_state(pdf, BookKind.PDF) is FileState.READABLE
    assert file_state(fake, BookKind.PDF) is FileState.UNREADABLE
    assert file_state(tmp_path / "c.pdf", BookKind.PDF) is FileState.MISSING
