from __future__ import annotations

from pathlib import Path

from adapters.kobo.files import file_state
from application.records import BookKind, FileState
from tests.support.nickel import write_epub


def test_epub_states(tmp_path: Path) -> None:
    plain = tmp_path / "plain.epub"
    write_epub(plain, ["OEBPS/a.xhtml"])
    adobe = tmp_path / "adobe.epub"
    write_epub(adobe, ["OEBPS/a.xhtml"], extra={"META-INF/rights.xml": "<rights/>"})
    fonts = tmp_path / "fonts.epub"
    write_epub(fonts, ["OEBPS/a.xhtml"], extra={"META-INF/encryption.xml": "<encryption/>"})
    broken = tmp_path / "broken.epub"
    broken.write_bytes(b"<html>not a zip</html>")
    assert file_state(plain, BookKind.KEPUB) is FileState.READABLE
    assert file_state(plain, BookKind.EPUB, has_content_keys=True) is FileState.ENCRYPTED
    assert file_state(adobe, BookKind.EPUB) is FileState.ENCRYPTED
    assert file_state(fonts, BookKind.KEPUB) is FileState.ENCRYPTED
    assert file_state(broken, BookKind.KEPUB) is FileState.UNREADABLE
    assert file_state(tmp_path / "gone.epub", BookKind.KEPUB) is FileState.MISSING
    assert file_state(tmp_path, BookKind.KEPUB) is FileState.MISSING  # a folder is no book file


def test_pdf_states(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7\n...")
    fake = tmp_path / "b.pdf"
    fake.write_bytes(b"<html>")
    assert file_state(pdf, BookKind.PDF) is FileState.READABLE
    assert file_state(fake, BookKind.PDF) is FileState.UNREADABLE
    assert file_state(tmp_path / "c.pdf", BookKind.PDF) is FileState.MISSING
