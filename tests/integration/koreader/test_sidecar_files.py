"""``SidecarLibrary`` on real files: byte-exact pulls, KOReader's backups, read order and fallbacks."""

from __future__ import annotations

import difflib
import os
import time
from pathlib import Path
from typing import NoReturn

import pytest

from adapters.device import DeviceLayout
from adapters.koreader import SidecarLibrary
from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from application.errors import SidecarError
from application.records import KOReaderWrite
from tests.unit.koreader.samples import CURRENT_ANNOTATIONS, LEGACY_BOOKMARKS

PULL = KOReaderWrite(
    percent=0.5, status="complete", modified="2026-03-02", last_xpointer="/body/DocFragment[20]/body"
)
HOUR = 3600


class Kobo:
    """A temporary Kobo user partition with KOReader installed."""

    def __init__(self, tmp_path: Path, mode: str = "doc") -> None:
        self.root = tmp_path / "KOBOeReader"
        self.data = self.root / ".adds" / "koreader"
        self.data.mkdir(parents=True)
        (self.root / "books").mkdir()
        self.set_mode(mode)
        self.library = SidecarLibrary(DeviceLayout(self.root))

    def set_mode(self, mode: str) -> None:
        settings = render_settings_file({"document_metadata_folder": mode}, "./settings.reader.lua")
        (self.data / "settings.reader.lua").write_bytes(settings)

    def book(self, name: str = "Dune.epub") -> Path:
        path = self.root / "books" / name
        path.write_bytes(b"PK" + name.encode() * 3000)
        return path

    def doc_sidecar(self, name: str = "Dune") -> Path:
        return self.root / "books" / f"{name}.sdr" / "metadata.epub.lua"

    def dir_sidecar(self, name: str = "Dune") -> Path:
        return self.data / "docsettings" / "mnt" / "onboard" / "books" / f"{name}.sdr" / "metadata.epub.lua"


def put(path: Path, content: bytes, age_seconds: float = HOUR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def changed_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0)
    return sorted(line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))


def test_a_pull_into_a_sidecar_with_annotations_changes_only_the_owned_keys(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    sidecar = put(kobo.doc_sidecar(), CURRENT_ANNOTATIONS)
    assert kobo.library.write(kobo.book(), PULL) == sidecar
    assert changed_lines(CURRENT_ANNOTATIONS, sidecar.read_bytes()) == sorted(
        [
            '-    ["last_xpointer"] = "/body/DocFragment[12]/body/p[3]/text().0",',
            '-    ["percent_finished"] = 0.059952038369305,',
            '+    ["last_percent"] = 0.5,',
            '+    ["last_xpointer"] = "/body/DocFragment[20]/body",',
            '+    ["percent_finished"] = 0.5,',
            '-        ["modified"] = "2026-02-19",',
            '+        ["modified"] = "2026-03-02",',
            '-        ["status"] = "reading",',
            '+        ["status"] = "complete",',
        ]
    )
    assert sidecar.with_name("metadata.epub.lua.old").read_bytes() == CURRENT_ANNOTATIONS


def test_a_legacy_bookmarks_sidecar_keeps_every_other_byte(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path, mode="dir")
    sidecar = put(kobo.dir_sidecar("Old Book"), LEGACY_BOOKMARKS)
    kobo.library.write(kobo.book("Old Book.epub"), KOReaderWrite(0.25, "reading", "2026-03-02"))
    assert changed_lines(LEGACY_BOOKMARKS, sidecar.read_bytes()) == sorted(
        [
            '+    ["last_percent"] = 0.25,',
            '-    ["percent_finished"] = 1,',
            '+    ["percent_finished"] = 0.25,',
            '-        ["modified"] = "2022-03-06",',
            '-        ["status"] = "complete",',
            '+        ["modified"] = "2026-03-02",',
            '+        ["status"] = "reading",',
        ]
    )


def test_a_sidecar_written_within_the_last_minute_is_not_rotated(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    sidecar = put(kobo.doc_sidecar(), CURRENT_ANNOTATIONS, age_seconds=10)
    backup = put(sidecar.with_name("metadata.epub.lua.old"), LEGACY_BOOKMARKS, age_seconds=HOUR)
    kobo.library.write(kobo.book(), PULL)
    assert backup.read_bytes() == LEGACY_BOOKMARKS
    assert b"DocFragment[20]" in sidecar.read_bytes()


def test_a_new_sidecar_is_complete_and_loads_in_koreaders_luajit(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    written = kobo.library.write(kobo.book(), PULL)
    content = written.read_bytes()
    assert content.startswith(b"-- /mnt/onboard/books/Dune.sdr/metadata.epub.lua\nreturn {\n")
    table = LuaSandbox().load_text(content, str(written))
    assert table["doc_path"] == "/mnt/onboard/books/Dune.epub"
    assert table["cre_dom_version"] == 20240114
    assert not written.with_name("metadata.epub.lua.old").exists()
    assert sorted(p.name for p in written.parent.iterdir()) == ["metadata.epub.lua"]


def test_dir_mode_headers_use_koreaders_relative_data_dir(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path, mode="dir")
    written = kobo.library.write(kobo.book(), PULL)
    assert written == kobo.dir_sidecar()
    assert written.read_bytes().startswith(b"-- ./docsettings/mnt/onboard/books/Dune.sdr/metadata.epub.lua\n")


def test_the_newest_copy_is_read_even_in_another_location(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    put(kobo.doc_sidecar(), CURRENT_ANNOTATIONS, age_seconds=2 * HOUR)
    newer = put(
        kobo.dir_sidecar(), CURRENT_ANNOTATIONS.replace(b'"reading"', b'"abandoned"'), age_seconds=HOUR
    )
    state = kobo.library.read(kobo.book())
    assert (state.sidecar, state.status) == (newer, "abandoned")


def test_a_pull_goes_to_the_preferred_place_and_wins_there(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    other = put(
        kobo.dir_sidecar(), CURRENT_ANNOTATIONS.replace(b'"reading"', b'"abandoned"'), age_seconds=HOUR
    )
    written = kobo.library.write(kobo.book(), PULL)
    assert written == kobo.doc_sidecar()
    assert other.read_bytes().count(b'"abandoned"') == 1  # never deleted nor changed
    state = kobo.library.read(kobo.book())
    assert (state.sidecar, state.status) == (written, "complete")
    assert b"Book One: Dune" in written.read_bytes()  # annotations carried over from the copy it read


def test_a_copy_dated_in_the_future_does_not_hide_the_pull(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    put(kobo.dir_sidecar(), CURRENT_ANNOTATIONS, age_seconds=-HOUR)
    written = kobo.library.write(kobo.book(), PULL)
    assert kobo.library.read(kobo.book()).sidecar == written
    assert written.stat().st_mtime > kobo.dir_sidecar().stat().st_mtime


def test_a_broken_primary_falls_back_to_its_backup_but_is_never_overwritten(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    broken = put(kobo.doc_sidecar(), b"return {", age_seconds=60)
    put(broken.with_name("metadata.epub.lua.old"), CURRENT_ANNOTATIONS, age_seconds=HOUR)
    assert kobo.library.read(kobo.book()).status == "reading"
    with pytest.raises(SidecarError, match=r"Dune\.epub.*not overwriting.*metadata\.epub\.lua"):
        kobo.library.write(kobo.book(), PULL)
    assert broken.read_bytes() == b"return {"
    assert broken.with_name("metadata.epub.lua.old").read_bytes() == CURRENT_ANNOTATIONS


def test_an_empty_primary_is_skipped_and_does_not_replace_a_good_backup(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    empty = put(kobo.doc_sidecar(), b"", age_seconds=HOUR)
    backup = put(empty.with_name("metadata.epub.lua.old"), CURRENT_ANNOTATIONS, age_seconds=2 * HOUR)
    assert kobo.library.read(kobo.book()).sidecar == backup
    kobo.library.write(kobo.book(), PULL)
    assert backup.read_bytes() == CURRENT_ANNOTATIONS
    assert b"Book One: Dune" in empty.read_bytes()


def test_a_failed_write_leaves_the_sidecar_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kobo = Kobo(tmp_path)
    sidecar = put(kobo.doc_sidecar(), CURRENT_ANNOTATIONS, age_seconds=10)

    def full_disk(*args: object, **kwargs: object) -> NoReturn:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(SidecarError, match="No space left"):
        kobo.library.write(kobo.book(), PULL)
    assert sidecar.read_bytes() == CURRENT_ANNOTATIONS
    assert sorted(p.name for p in sidecar.parent.iterdir()) == ["metadata.epub.lua"]


def test_doc_mode_falls_back_to_dir_when_the_book_folder_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kobo = Kobo(tmp_path)
    book = kobo.book()
    books_folder = str(book.parent)
    real_access = os.access
    # Folder permissions do not bind root (CI containers), so the check itself is made to say no.
    monkeypatch.setattr(
        os, "access", lambda path, mode: real_access(path, mode) and str(path) != books_folder
    )
    assert kobo.library.write(book, PULL) == kobo.dir_sidecar()
    assert not kobo.doc_sidecar().parent.exists()


def test_the_metadata_mode_is_reread_when_koreaders_settings_change(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    assert kobo.library.write(kobo.book(), PULL) == kobo.doc_sidecar()
    kobo.set_mode("hash")
    written = kobo.library.write(kobo.book(), PULL)
    assert written.parent.parent.parent.name == "hashdocsettings"
    assert kobo.library.read(kobo.book()).sidecar == written


def test_history_time_comes_from_history_lua_by_device_path(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    put(kobo.doc_sidecar(), CURRENT_ANNOTATIONS)
    history: LuaTable = {
        1: {"file": "/mnt/onboard/books/Other.epub", "time": 1},
        2: {"file": "/mnt/onboard/books/Dune.epub", "time": 1767225600},
    }
    (kobo.data / "history.lua").write_bytes(render_settings_file(history, "./history.lua"))
    state = kobo.library.read(kobo.book())
    assert state.history_time is not None
    assert state.history_time.isoformat() == "2026-01-01T00:00:00+00:00"


def test_a_broken_history_falls_back_to_the_sidecar_mtime(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    put(kobo.doc_sidecar(), CURRENT_ANNOTATIONS)
    (kobo.data / "history.lua").write_bytes(b"return {")
    state = kobo.library.read(kobo.book())
    assert state.history_time is None and state.updated_at == state.sidecar_mtime


def test_a_desktop_koreader_data_dir_uses_host_paths(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    desktop = tmp_path / "config" / "koreader"
    desktop.mkdir(parents=True)
    (desktop / "settings.reader.lua").write_bytes(
        render_settings_file({"document_metadata_folder": "dir"}, f"{desktop}/settings.reader.lua")
    )
    library = SidecarLibrary(DeviceLayout(kobo.root), desktop)
    book = kobo.book()
    written = library.write(book, PULL)
    assert written == Path(f"{desktop}/docsettings{book.with_suffix('')}.sdr/metadata.epub.lua")
    assert library.read(book).sidecar == written
    assert LuaSandbox().load_text(written.read_bytes(), "desktop")["doc_path"] == str(book)


def test_candidates_for_watching_include_every_location(tmp_path: Path) -> None:
    kobo = Kobo(tmp_path)
    candidates = kobo.library.sidecar_candidates(kobo.book())
    assert kobo.doc_sidecar() in candidates and kobo.dir_sidecar() in candidates
    assert any("hashdocsettings" in str(path) for path in candidates)
