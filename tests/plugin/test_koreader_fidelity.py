"""What reading the plugin against KOReader's own source found (issue 12, point 4), one test each."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from tests.plugin.conftest import PLUGIN_DIR, REPO, PluginHarness, to_python
from tests.plugin.rpc_standin import KksyncState, StandInDaemon

KEPUB = "/mnt/onboard/.kobo/kepub/0RDTATJQNHSQ0"
PATCH = REPO / "entrypoints" / "koreader_plugin" / "patches" / "2-kksync-kepub.lua"


def run_user_patch(harness: PluginHarness, installed: bool = True) -> str:
    """KOReader's userpatch.lua: `dofile` of `patches/2-*.lua` before any plugin is loaded, so no
    plugin folder is on `package.path` yet. Returns the path the patch left behind."""
    if installed:
        plugins = harness.data_dir / "plugins"
        plugins.mkdir(exist_ok=True)
        (plugins / "kksync.koplugin").symlink_to(PLUGIN_DIR)
    lua_package = harness.lua.globals().package
    with_plugin = lua_package.path
    lua_package.path = with_plugin.replace(f"{PLUGIN_DIR}/?.lua;", "")
    before = lua_package.path
    harness.lua.globals().dofile(str(PATCH))
    left = lua_package.path
    lua_package.path = with_plugin  # as PluginLoader does while it loads main.lua
    assert left == before, "the patch must not leave the plugin folder on package.path"
    return str(left)


def cold_start_into(harness: PluginHarness, path: str) -> Any:
    """reader.lua with "start with last file": ReaderUI:showReader(last_file) before plugins load."""
    reader = harness.ui.ReaderUI
    reader.showReader(reader, path)
    return to_python(reader.opened)


def test_a_cold_start_into_a_server_kepub_opens_it_with_the_epub_engine(harness: PluginHarness) -> None:
    # Without the patch stock KOReader refuses the extension-less file.
    assert not cold_start_into(harness, KEPUB)
    assert harness.last("InfoMessage").text == f"File '{KEPUB}' is not supported."
    harness.ui.UIManager.reset(harness.ui.UIManager)

    run_user_patch(harness)
    assert cold_start_into(harness, KEPUB) == [{"file": KEPUB, "provider": to_python(harness.ko.crengine)}]
    # ...and the book's sidecar is the kksync one, not stock KOReader's shared `/mnt/onboard/.sdr`.
    docsettings = harness.ko.DocSettings
    assert docsettings.getSidecarDir(docsettings, KEPUB, "doc") == KEPUB + ".sdr"
    harness.new_plugin()  # the plugin installs the same patches again: nothing changes twice
    assert docsettings.getSidecarDir(docsettings, KEPUB, "doc") == KEPUB + ".sdr"


def test_the_user_patch_is_harmless_without_the_plugin(harness: PluginHarness) -> None:
    run_user_patch(harness, installed=False)
    assert not cold_start_into(harness, KEPUB)
    assert any("kepub patch is inactive" in line for line in harness.ui.logger.lines.values())


def test_an_open_with_choice_beats_the_epub_engine(harness: PluginHarness) -> None:
    harness.new_plugin()
    registry = harness.ko.DocumentRegistry
    registry.file_associations[KEPUB] = "mupdf"  # "Open with… MuPDF, always for this file"
    provider, associated = registry.getProvider(registry, KEPUB)
    assert provider.provider == "mupdf" and associated is True
    other = "/mnt/onboard/.kobo/kepub/OTHER"
    assert registry.getProvider(registry, other).provider == "crengine"


def test_meta_has_no_name_field(harness: PluginHarness) -> None:
    """KOReader's pluginloader warns "name in _meta.lua, is deprecated" at every start."""
    meta = to_python(harness.lua.globals().dofile(str(PLUGIN_DIR / "_meta.lua")))
    assert "name" not in meta
    assert meta["fullname"] and meta["description"]


def test_the_library_menu_is_closed_once(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    plugin = harness.new_plugin()
    harness.show_library(plugin)
    menu = harness.last("Menu")
    menu.onClose(menu)  # the close button
    assert harness.ui.UIManager.close_counts[menu] == 1
    assert harness.last("Menu") is None


def test_the_list_shows_what_the_first_open_sync_did(
    harness: PluginHarness, running_daemon: StandInDaemon, kksync_state: KksyncState
) -> None:
    def sync_pulls_persuasion(_params: Any) -> dict[str, Any]:
        kksync_state.books[0]["koreader"]["percent"] = 45.0  # what the pull wrote
        return {"books": [], "summary": {"pulled": 1}, "questions": []}

    running_daemon.handlers["sync.run"] = sync_pulls_persuasion
    harness.show_library(harness.new_plugin())
    rows = [to_python(item) for item in harness.last("Menu").item_table.values()]
    persuasion = next(row for row in rows if row.get("book", {}).get("title") == "Persuasion")
    assert persuasion["mandatory"] == "45 %"  # not the "45 % / 38 %" listed before the sync


def test_a_daemon_json_from_another_computer_is_ignored(harness: PluginHarness) -> None:
    info = harness.device_root / ".adds" / "kksync" / "daemon.json"
    info.parent.mkdir(parents=True)
    other_host = socket.gethostname() + "-laptop"
    info.write_text(json.dumps({"socket": "/run/user/1000/kksync/x.sock", "pid": 4242, "host": other_host}))
    plugin = harness.new_plugin()
    plugin.showStatus(plugin)
    harness.settle()
    assert harness.last("InfoMessage").text == "The kksync daemon is not running on this device."


def test_docs_name_the_sd_card_folders_the_plugin_uses(harness: PluginHarness) -> None:
    folders = list(harness.require("kksync/sidecar_naming").kepub_folders.values())
    docs = (REPO / "docs" / "plugin.md").read_text(encoding="utf-8")
    assert "/mnt/sd/koboExtStorage/kepub" in folders
    for folder in folders:
        assert f"`{folder}/`" in docs, folder
    assert "/mnt/sd/.kobo/kepub" not in docs


def test_the_starting_daemon_is_labelled_starting(harness: PluginHarness, fixture_db: Path) -> None:
    (harness.device_root / ".kobo" / "kepub").mkdir(exist_ok=True)
    plugin = harness.new_plugin()
    launched = harness.lua.eval("function(p) p.process.launched = true p.process.launched_at = os.time() end")
    launched(plugin)
    plugin.showLibrary(plugin)
    harness.settle(limit=3)
    assert str(harness.last("Menu").title).endswith("· starting…")
