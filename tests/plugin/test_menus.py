"""Main-menu entries and the settings submenu (greyed out with a reason when no daemon answers)."""

from __future__ import annotations

from typing import Any

from tests.plugin.conftest import PluginHarness
from tests.plugin.rpc_standin import KksyncState, StandInDaemon

SETTING_KEYS = [
    "sync_reading_state",
    "enable_auto_sync",
    "enable_sync_from_kobo",
    "enable_sync_to_kobo",
    "sync_from_kobo_newer",
    "sync_from_kobo_older",
    "sync_to_kobo_newer",
    "sync_to_kobo_older",
]


def main_menu(harness: PluginHarness) -> Any:
    plugin = harness.new_plugin()
    assert harness.lua.eval("rawequal")(plugin.ui.menu.registered, plugin)
    items = harness.lua.table()
    plugin.addToMainMenu(plugin, items)
    harness.settle()  # the plugin fetched the settings in the background when it started
    return items


def settings_items(harness: PluginHarness) -> list[Any]:
    settings_entry = main_menu(harness).kksync.sub_item_table[3]
    return list(settings_entry.sub_item_table_func().values())


def search_menu(harness: PluginHarness, items: Any) -> list[str]:
    """What KOReader's TouchMenu search does: walk every entry, running each sub_item_table_func."""
    walk = harness.lua.eval(
        """
        function(items)
            local texts = {}
            local function visit(list)
                for _, item in ipairs(list) do
                    local text = item.text_func and item.text_func() or item.text
                    table.insert(texts, tostring(text))
                    local sub = item.sub_item_table
                    if item.sub_item_table_func then sub = item.sub_item_table_func() end
                    if sub then visit(sub) end
                end
            end
            visit({ items.kksync_library, items.kksync })
            return texts
        end
        """
    )
    return list(walk(items).values())


def label(item: Any) -> str:
    return str(item.text_func() if item.text_func else item.text)


def test_main_menu_has_the_library_and_the_kksync_submenu(harness: PluginHarness) -> None:
    items = main_menu(harness)
    assert items.kksync_library.text == "Kobo Library"
    assert [entry.text for entry in items.kksync.sub_item_table.values()] == [
        "Kobo Library",
        "Sync now",
        "Settings",
        "Daemon status",
    ]


def test_settings_are_greyed_out_with_a_reason_when_no_daemon_runs(harness: PluginHarness) -> None:
    items = settings_items(harness)
    status, settings = items[0], items[1:]
    assert label(status) == "Settings unavailable: kksync daemon not reachable"
    assert len(settings) == 8
    assert all(item.enabled_func() is False for item in settings)
    status.callback()
    assert "not running" in harness.last("InfoMessage").text


def test_settings_mirror_the_daemons_values(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    items = settings_items(harness)
    assert label(items[0]) == "Settings are shared with the kksync daemon"
    assert all(item.enabled_func() is True for item in items[1:])
    assert [label(item) for item in items[1:]] == [
        "Sync reading state with Kobo",
        "Sync automatically (library open, book close)",
        "Enable sync from Kobo to KOReader",
        "Enable sync from KOReader to Kobo",
        "Sync from Kobo (newer): Always (silent)",
        "Sync from Kobo (older): Never",
        "Sync to Kobo (newer): Always (silent)",
        "Sync to Kobo (older): Never",
    ]
    assert all(item.checked_func() is True for item in items[1:5])


def test_toggling_a_switch_writes_it_through_the_daemon(
    harness: PluginHarness, running_daemon: StandInDaemon, kksync_state: KksyncState
) -> None:
    items = settings_items(harness)
    auto_sync = items[2]
    auto_sync.callback(None)
    assert auto_sync.checked_func() is False  # shown at once, written in the background
    harness.settle()
    assert running_daemon.requests[-1]["params"] == {"enable_auto_sync": False}
    assert kksync_state.settings["enable_auto_sync"] is False
    assert auto_sync.checked_func() is False


def test_choosing_a_policy_writes_it_and_updates_the_label(
    harness: PluginHarness, running_daemon: StandInDaemon, kksync_state: KksyncState
) -> None:
    items = settings_items(harness)
    from_kobo_newer = items[5]
    ask, always, never = list(from_kobo_newer.sub_item_table.values())
    assert always.checked_func() is True and ask.checked_func() is False
    ask.callback(None)
    harness.settle()
    assert kksync_state.settings["sync_from_kobo_newer"] == "prompt"
    assert label(from_kobo_newer) == "Sync from Kobo (newer): Ask (prompt)"
    assert ask.checked_func() is True and always.checked_func() is False and never.radio is True


def test_every_known_setting_has_an_entry(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    keys = set()
    for item in settings_items(harness)[1:]:
        if item.sub_item_table:
            item.sub_item_table[1].callback(None)
        else:
            item.callback(None)
        harness.settle()
        keys.update(running_daemon.requests[-1]["params"])
    assert sorted(keys) == sorted(SETTING_KEYS)


def test_daemon_status_entry(harness: PluginHarness, running_daemon: StandInDaemon) -> None:
    main_menu(harness).kksync.sub_item_table[4].callback()
    harness.settle()
    assert harness.last("InfoMessage").text.startswith("kksync 0.1.0 is running")


def test_searching_the_menu_never_calls_the_daemon(
    harness: PluginHarness, running_daemon: StandInDaemon
) -> None:
    items = main_menu(harness)
    running_daemon.requests.clear()
    texts = search_menu(harness, items)
    assert "Sync to Kobo (older): Never" in texts  # the values fetched at start are shown
    assert running_daemon.requests == []


def test_a_refused_setting_is_undone_and_explained(
    harness: PluginHarness, running_daemon: StandInDaemon, kksync_state: KksyncState
) -> None:
    items = settings_items(harness)
    del kksync_state.settings["enable_sync_to_kobo"]  # the daemon now refuses this key
    items[4].callback(None)
    harness.settle()
    assert items[4].checked_func() is True
    assert "unknown setting" in harness.last("InfoMessage").text
