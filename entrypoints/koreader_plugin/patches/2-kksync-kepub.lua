--[[--
kksync: open Nickel's extension-less kepubs (Komga, Calibre-Web, Kobo store) from the very first
book KOReader opens.

KOReader runs the `2-*.lua` user patches after its UI is ready and before it reopens the last
book, while plugins load only later. Without this file, starting KOReader straight into such a
book fails with "File … is not supported". It only loads the kksync plugin's own `startup`
module; if the plugin is not installed it logs one line and does nothing.
Installed by `kksync install` (or by unzipping the kksync bundle) into `.adds/koreader/patches/`.
]]

local DataStorage = require("datastorage")
local logger = require("logger")

local plugin_dir = DataStorage:getDataDir() .. "/plugins/kksync.koplugin"
local saved_path = package.path
package.path = plugin_dir .. "/?.lua;" .. package.path
local ok, err = pcall(function()
    require("kksync/startup").install{
        DocSettings = require("docsettings"),
        DataStorage = DataStorage,
        DocumentRegistry = require("document/documentregistry"),
        device_root = os.getenv("KKSYNC_DEVICE_ROOT"),
    }
end)
package.path = saved_path
if not ok then
    logger.warn("kksync: the kepub patch is inactive (is kksync.koplugin installed in", plugin_dir, "?):", err)
end
