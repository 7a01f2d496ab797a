--[[--
What must be in place before KOReader opens any book: the sidecar naming and the EPUB engine for
Nickel's extension-less kepubs.

KOReader opens the last book ("start with last file", or a file given on the command line) before
it loads any plugin, so the plugin's own `init` comes too late for a cold start straight into a
Komga or Calibre-Web book: KOReader would say "File … is not supported". The user patch
`patches/2-kksync-kepub.lua` (run by KOReader's userpatch.lua before the first book opens) calls
`install` from here; the plugin calls it again at load, which changes nothing the second time.
]]

local KepubProvider = require("kksync/kepub_provider")
local SidecarNaming = require("kksync/sidecar_naming")

local Startup = {}

--- @tparam table ko `DocSettings`, `DataStorage`, `DocumentRegistry`, optional `reader_settings`
--   (G_reader_settings) and `device_root` (an emulator's KKSYNC_DEVICE_ROOT)
function Startup.install(ko)
    if ko.device_root then
        SidecarNaming.addDeviceRoot(ko.device_root)
    end
    SidecarNaming.install(ko.DocSettings, ko.DataStorage, function()
        local settings = ko.reader_settings or G_reader_settings
        return settings and settings:readSetting("document_metadata_folder", "doc") or "doc"
    end)
    KepubProvider.install(ko.DocumentRegistry, SidecarNaming.isKepubPath)
end

return Startup
