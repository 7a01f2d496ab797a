"""The plugin names sidecars exactly like the kksync KOReader adapter, for every path shape and mode.

Stock KOReader mangles extension-less kepubs (``/mnt/onboard.sdr/metadata.kobo/kepub/<id>.lua``);
the plugin patches DocSettings for those paths only. KOReader on the Kobo runs with data dir ``.``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.device import DeviceLayout
from adapters.koreader.locations import KOReaderPaths, locate
from adapters.koreader.partial_md5 import partial_md5 as adapter_partial_md5
from tests.plugin.conftest import PluginHarness

KEPUB = "/mnt/onboard/.kobo/kepub/0RDTATJQNHSQ0"
UUID_KEPUB = "/mnt/onboard/.kobo/kepub/c00698f0-3836-4428-b0fc-48354822fa80"
SD_KEPUB = "/mnt/sd/koboExtStorage/kepub/0RDTATJQNHSQ1"
SIDELOADED_KEPUB = "/mnt/onboard/books/x.kepub.epub"
UPPER_EPUB = "/mnt/onboard/books/Book.EPUB"
NO_EXTENSION = "/mnt/onboard/books/noext"

EXPECTED_DOC = {
    KEPUB: f"{KEPUB}.sdr/metadata.epub.lua",
    UUID_KEPUB: f"{UUID_KEPUB}.sdr/metadata.epub.lua",
    SD_KEPUB: f"{SD_KEPUB}.sdr/metadata.epub.lua",
    SIDELOADED_KEPUB: "/mnt/onboard/books/x.kepub.sdr/metadata.epub.lua",
    UPPER_EPUB: "/mnt/onboard/books/Book.sdr/metadata.EPUB.lua",
    NO_EXTENSION: "/mnt/onboard/books/noext.sdr/metadata._.lua",
}
ON_BOARD = [KEPUB, UUID_KEPUB, SIDELOADED_KEPUB, UPPER_EPUB, NO_EXTENSION]


def kobo_harness(tmp_path: Path) -> PluginHarness:
    """A harness whose KOReader data dir is ``.`` as on the Kobo, with the plugin's patch installed."""
    harness = PluginHarness(tmp_path)
    harness.ko.DataStorage.data_dir = "."
    harness.new_plugin()
    return harness


def sidecar_file(harness: PluginHarness, doc_path: str, location: str | None = None) -> str:
    """The sidecar path as KOReader builds it: getSidecarDir + "/" + getSidecarFilename."""
    build = harness.lua.eval(
        "function(ds, path, location) return ds:getSidecarDir(path, location) .. '/' "
        ".. ds.getSidecarFilename(path) end"
    )
    return str(build(harness.ko.DocSettings, doc_path, location))


def write_book(harness: PluginHarness, doc_path: str, size: int = 5000) -> Path:
    host = harness.host_path(doc_path)
    host.parent.mkdir(parents=True, exist_ok=True)
    host.write_bytes(bytes(i % 251 for i in range(size)))
    return host


@pytest.fixture
def kobo(tmp_path: Path) -> PluginHarness:
    return kobo_harness(tmp_path)


@pytest.mark.parametrize("doc_path", list(EXPECTED_DOC))
def test_doc_mode_names(kobo: PluginHarness, doc_path: str) -> None:
    assert sidecar_file(kobo, doc_path, "doc") == EXPECTED_DOC[doc_path]


@pytest.mark.parametrize("doc_path", list(EXPECTED_DOC))
def test_dir_mode_names(kobo: PluginHarness, doc_path: str) -> None:
    assert sidecar_file(kobo, doc_path, "dir") == "./docsettings" + EXPECTED_DOC[doc_path]


@pytest.mark.parametrize("doc_path", ON_BOARD)
def test_hash_mode_names(kobo: PluginHarness, doc_path: str) -> None:
    digest = adapter_partial_md5(write_book(kobo, doc_path))
    name = EXPECTED_DOC[doc_path].rsplit("/", 1)[1]
    assert sidecar_file(kobo, doc_path, "hash") == f"./hashdocsettings/{digest[:2]}/{digest}.sdr/{name}"


def test_hash_mode_falls_back_to_the_book_folder_when_the_file_cannot_be_read(kobo: PluginHarness) -> None:
    assert sidecar_file(kobo, KEPUB, "hash") == EXPECTED_DOC[KEPUB]


def test_the_preferred_location_comes_from_koreaders_setting(kobo: PluginHarness) -> None:
    kobo.ko.G_reader_settings["values"]["document_metadata_folder"] = "dir"
    assert sidecar_file(kobo, KEPUB) == "./docsettings" + EXPECTED_DOC[KEPUB]


def test_stock_koreader_mangles_kepubs_which_is_why_the_patch_exists(tmp_path: Path) -> None:
    harness = PluginHarness(tmp_path)  # no plugin: stock naming
    assert sidecar_file(harness, KEPUB, "doc") == "/mnt/onboard/.sdr/metadata.kobo/kepub/0RDTATJQNHSQ0.lua"


def test_a_dotted_file_in_the_kepub_folder_keeps_stock_naming(kobo: PluginHarness) -> None:
    path = "/mnt/onboard/.kobo/kepub/book.epub"
    assert sidecar_file(kobo, path, "doc") == "/mnt/onboard/.kobo/kepub/book.sdr/metadata.epub.lua"


def test_installing_twice_does_not_wrap_twice(kobo: PluginHarness) -> None:
    kobo.new_plugin()
    assert sidecar_file(kobo, KEPUB, "dir") == "./docsettings" + EXPECTED_DOC[KEPUB]


# Agreement with the Python adapter (adapters/koreader/locations.py), which writes these files.


def adapter_headers(harness: PluginHarness, doc_path: str) -> dict[str, Any]:
    layout = DeviceLayout(harness.device_root)
    paths = KOReaderPaths(layout, harness.data_dir)
    host = harness.host_path(doc_path)
    locations = locate(paths, host, adapter_partial_md5(host))
    assert locations.hash is not None
    return {"doc": locations.doc.header, "dir": locations.dir.header, "hash": locations.hash.header}


@pytest.mark.parametrize("doc_path", ON_BOARD)
@pytest.mark.parametrize("mode", ["doc", "dir", "hash"])
def test_plugin_and_adapter_agree(kobo: PluginHarness, doc_path: str, mode: str) -> None:
    write_book(kobo, doc_path, size=70_000)
    assert sidecar_file(kobo, doc_path, mode) == adapter_headers(kobo, doc_path)[mode]
