"""KOReader's metadata mode: read again whenever ``settings.reader.lua`` (or, without it, its
``.old``) changes, and an absent file not searched for on every call."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.koreader.locations import MetadataMode
from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.koreader.lua_writer import render_settings_file
from adapters.koreader.reader_settings import ReaderSettings


def _write(path: Path, mode: str) -> None:
    path.write_bytes(render_settings_file({"document_metadata_folder": mode}, f"./{path.name}"))


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[MetadataMode]:
    """Every time the settings are looked for and read (not just stat'ed)."""
    found: list[MetadataMode] = []
    original = ReaderSettings._read_mode

    def counting(self: ReaderSettings) -> MetadataMode:
        found.append(original(self))
        return found[-1]

    monkeypatch.setattr(ReaderSettings, "_read_mode", counting)
    return found


def test_no_file_means_doc_mode_until_one_appears(tmp_path: Path, lookups: list[MetadataMode]) -> None:
    settings = ReaderSettings(tmp_path, LuaSandbox())
    assert [settings.metadata_mode() for _ in range(3)] == [MetadataMode.DOC] * 3
    _write(tmp_path / "settings.reader.lua", "hash")
    assert settings.metadata_mode() is MetadataMode.HASH
    assert settings.metadata_mode() is MetadataMode.HASH
    assert lookups == [MetadataMode.DOC, MetadataMode.HASH]  # once without, once when it appeared


def test_without_the_file_its_backup_counts_and_changes_to_it_are_seen(tmp_path: Path) -> None:
    settings = ReaderSettings(tmp_path, LuaSandbox())
    backup = tmp_path / "settings.reader.lua.old"
    _write(backup, "dir")
    assert settings.metadata_mode() is MetadataMode.DIR
    _write(backup, "hash")
    assert settings.metadata_mode() is MetadataMode.HASH
    backup.unlink()
    assert settings.metadata_mode() is MetadataMode.DOC
