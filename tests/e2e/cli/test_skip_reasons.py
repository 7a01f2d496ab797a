"""Every book that cannot be synced says why, in the table and in the JSON (issue 15, point 4)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.e2e.cli.devices import json_document, kksync
from tests.e2e.cli.real_fixture import build_real_fixture_device
from tests.support.nickel import device_with_real_fixture

NOT_SYNCABLE_NOTE = "not syncable: "


def _reasons(root: Path) -> dict[str, str]:
    result = kksync("status", "--json", "--device", root)
    assert result.returncode == 0, result.stderr
    reasons = {}
    for book in json_document(result)["books"]:
        if book["reason"] == "NOT_SYNCABLE":
            notes = [n for n in book["notes"] if n.startswith(NOT_SYNCABLE_NOTE)]
            assert len(notes) == 1, book
            reasons[book["book_id"]] = notes[0][len(NOT_SYNCABLE_NOTE) :]
    return reasons


def test_every_book_of_the_bare_real_fixture_says_why_it_is_not_syncable(tmp_path: Path) -> None:
    layout = device_with_real_fixture(tmp_path / "kobo")
    reasons = _reasons(layout.root)
    assert len(reasons) == 34
    assert all(reasons.values())
    not_downloaded = [r for r in reasons.values() if "not downloaded" in r]
    missing = [r for r in reasons.values() if r == "book file missing"]
    assert len(not_downloaded) == 9 and len(missing) == 25


def test_missing_drm_folder_and_not_a_zip_are_told_apart(tmp_path: Path) -> None:
    layout = build_real_fixture_device(tmp_path / "kobo")
    before = _reasons(layout.root)
    assert all("not downloaded" in reason for reason in before.values())
    komga = [book_id for book_id in _kepub_ids(layout.root) if "-" in book_id][:4]
    gone, drm, folder, garbage = (layout.book_host_path(book_id) for book_id in komga)
    gone.unlink()
    _add_encryption(drm)
    folder.unlink()
    folder.mkdir()
    garbage.write_bytes(b"this is not a zip file at all\n" * 10)
    reasons = _reasons(layout.root)
    assert reasons[komga[0]] == "book file missing"
    assert reasons[komga[1]].startswith("DRM-protected")
    assert reasons[komga[2]] == "book path is a folder, not a file"
    assert reasons[komga[3]].startswith("not a zip file")
    table = kksync("status", "--device", layout.root, env={"COLUMNS": "200"})
    assert "book path is a folder, not a file" in table.stdout
    assert "DRM-protected" in table.stdout


def _kepub_ids(root: Path) -> list[str]:
    from tests.e2e.cli.real_fixture import downloaded_kepubs

    return downloaded_kepubs(root / ".kobo" / "KoboReader.sqlite")


def _add_encryption(book: Path) -> None:
    """An Adobe-style encryption.xml that encrypts a chapter: DRM as KOReader sees it."""
    with zipfile.ZipFile(book) as archive:
        chapter = next(n for n in archive.namelist() if n.endswith(".xhtml"))
    xml = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
        f'<enc:CipherData><enc:CipherReference URI="{chapter}"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    with zipfile.ZipFile(book, "a") as archive:
        archive.writestr("META-INF/encryption.xml", xml)
