"""Sidecar names and the read order follow KOReader's DocSettings (docs/reference/koreader.md §1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.koreader.locations import (
    Candidate,
    KOReaderPaths,
    MetadataMode,
    candidate_files,
    legacy_history_name,
    locate,
    read_order,
    sidecar_folders,
    sidecar_naming,
)

DIGEST = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("document", "folder", "name"),
    [
        ("/mnt/onboard/books/x.kepub.epub", "/mnt/onboard/books/x.kepub.sdr", "metadata.epub.lua"),
        ("/mnt/onboard/books/Book.EPUB", "/mnt/onboard/books/Book.sdr", "metadata.EPUB.lua"),
        ("/mnt/onboard/books/noext", "/mnt/onboard/books/noext.sdr", "metadata._.lua"),
        (
            "/mnt/onboard/.kobo/kepub/0N3773Z6SFV9Z",
            "/mnt/onboard/.kobo/kepub/0N3773Z6SFV9Z.sdr",
            "metadata.epub.lua",
        ),
        (
            "/mnt/sd/koboExtStorage/kepub/abc-def",
            "/mnt/sd/koboExtStorage/kepub/abc-def.sdr",
            "metadata.epub.lua",
        ),
        ("/mnt/onboard/.hidden/noext", "/mnt/onboard/.sdr", "metadata.hidden/noext.lua"),
    ],
)
def test_sidecar_folder_and_file_names(document: str, folder: str, name: str) -> None:
    assert sidecar_naming(document) == (folder, name)


def test_legacy_history_name() -> None:
    assert legacy_history_name("/mnt/onboard/books/foo.epub") == "[#mnt#onboard#books#] foo.epub.lua"


def device(tmp_path: Path) -> tuple[DeviceLayout, Path]:
    root = tmp_path / "KOBOeReader"
    (root / "books").mkdir(parents=True)
    return DeviceLayout(root), root


def test_on_device_paths_are_built_from_the_device_path_with_relative_headers(tmp_path: Path) -> None:
    layout, root = device(tmp_path)
    paths = KOReaderPaths(layout, layout.koreader_dir)
    where = locate(paths, root / "books" / "Dune.epub", DIGEST)
    assert where.koreader_path == "/mnt/onboard/books/Dune.epub"
    assert where.doc.path == root / "books" / "Dune.sdr" / "metadata.epub.lua"
    assert where.doc.header == "/mnt/onboard/books/Dune.sdr/metadata.epub.lua"
    koreader = root / ".adds" / "koreader"
    assert where.dir.path == koreader / "docsettings/mnt/onboard/books/Dune.sdr/metadata.epub.lua"
    assert where.dir.header == "./docsettings/mnt/onboard/books/Dune.sdr/metadata.epub.lua"
    assert where.hash is not None
    assert where.hash.path == koreader / f"hashdocsettings/01/{DIGEST}.sdr/metadata.epub.lua"
    assert where.hash.header == f"./hashdocsettings/01/{DIGEST}.sdr/metadata.epub.lua"


@pytest.mark.parametrize(
    "book", ["books/Dune.epub", "books/x.kepub.epub", ".kobo/kepub/ABC123", "books/noext", "Scan.PDF"]
)
@pytest.mark.parametrize("digest", [DIGEST, None], ids=["hashed", "unhashed"])
@pytest.mark.parametrize("desktop", [False, True], ids=["koreader on the kobo", "desktop koreader"])
def test_leftovers_are_looked_for_in_the_folders_of_the_files_kksync_writes(
    tmp_path: Path, book: str, digest: str | None, desktop: bool
) -> None:
    layout, root = device(tmp_path)
    paths = KOReaderPaths(layout, tmp_path / "desktop" if desktop else layout.koreader_dir)
    files = candidate_files(paths, root / book, digest)
    written = [path for path in (files.doc, files.dir, files.hash) if path is not None]
    assert sidecar_folders(paths, root / book, digest) == [os.path.dirname(path) for path in written]


def test_kepubs_use_the_kobo_plugin_names_in_every_mode(tmp_path: Path) -> None:
    layout, root = device(tmp_path)
    where = locate(KOReaderPaths(layout, layout.koreader_dir), root / ".kobo" / "kepub" / "ABC123", DIGEST)
    assert where.doc.path == root / ".kobo/kepub/ABC123.sdr/metadata.epub.lua"
    assert where.dir.header == "./docsettings/mnt/onboard/.kobo/kepub/ABC123.sdr/metadata.epub.lua"
    assert where.hash is not None and where.hash.path.name == "metadata.epub.lua"


def test_a_desktop_koreader_uses_host_paths_and_absolute_headers(tmp_path: Path) -> None:
    layout, root = device(tmp_path)
    desktop = tmp_path / "config" / "koreader"
    where = locate(KOReaderPaths(layout, desktop), root / "books" / "Dune.epub", None)
    host_stem = f"{root}/books/Dune"
    assert where.koreader_path == f"{host_stem}.epub"
    assert where.dir.path == Path(f"{desktop}/docsettings{host_stem}.sdr/metadata.epub.lua")
    assert where.dir.header == f"{desktop}/docsettings{host_stem}.sdr/metadata.epub.lua"
    assert where.hash is None


def test_a_desktop_koreader_names_kepub_sidecars_as_the_plugin_does(tmp_path: Path) -> None:
    """Not KOReader's stock ``<mount>/.sdr/metadata.kobo/kepub/<id>.lua`` (its last dot is in ``.kobo``)."""
    layout, root = device(tmp_path)
    desktop = tmp_path / "config" / "koreader"
    kepub = root / ".kobo" / "kepub" / "0N3773Z6SFV9Z"
    where = locate(KOReaderPaths(layout, desktop), kepub, None)
    assert where.doc.path == Path(f"{kepub}.sdr/metadata.epub.lua")
    assert where.dir.path == Path(f"{desktop}/docsettings{kepub}.sdr/metadata.epub.lua")


def test_the_save_target_per_mode(tmp_path: Path) -> None:
    layout, root = device(tmp_path)
    where = locate(KOReaderPaths(layout, layout.koreader_dir), root / "books" / "Dune.epub", DIGEST)
    assert where.target(MetadataMode.DOC, doc_folder_writable=True) == where.doc
    assert where.target(MetadataMode.DOC, doc_folder_writable=False) == where.dir
    assert where.target(MetadataMode.DIR, doc_folder_writable=True) == where.dir
    assert where.target(MetadataMode.HASH, doc_folder_writable=True) == where.hash
    unhashable = locate(KOReaderPaths(layout, layout.koreader_dir), root / "books" / "Dune.epub", None)
    assert unhashable.target(MetadataMode.HASH, doc_folder_writable=True) == unhashable.doc


def files(tmp_path: Path, mtimes: dict[str, int]) -> list[Candidate]:
    candidates = []
    for priority, (name, mtime) in enumerate(mtimes.items()):
        path = tmp_path / name
        path.write_text("x")
        os.utime(path, (mtime, mtime))
        primary = tmp_path / name.removesuffix(".old") if name.endswith(".old") else None
        candidates.append(Candidate(path, priority, primary))
    return candidates


def test_newest_candidate_first_and_ties_go_to_list_priority(tmp_path: Path) -> None:
    order = read_order(
        files(tmp_path, {"doc.lua": 1000, "doc.lua.old": 900, "dir.lua": 1000, "hash.lua": 2000})
    )
    assert [found.path.name for found in order] == ["hash.lua", "doc.lua", "dir.lua", "doc.lua.old"]


def test_a_backup_never_sorts_ahead_of_its_primary(tmp_path: Path) -> None:
    order = read_order(files(tmp_path, {"doc.lua": 1000, "doc.lua.old": 3000, "dir.lua": 2000}))
    assert [found.path.name for found in order] == ["doc.lua", "doc.lua.old", "dir.lua"]
    assert order[0].mtime == 3000


def test_missing_candidates_are_left_out(tmp_path: Path) -> None:
    assert read_order([Candidate(tmp_path / "nothing.lua", 0)]) == []
