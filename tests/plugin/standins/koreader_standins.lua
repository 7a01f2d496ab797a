-- Stand-ins for KOReader's document modules, written from KOReader's documented behaviour
-- (docs/reference/koreader.md §1): the stock sidecar naming the plugin patches, the settings
-- global, the provider registry. `bridge` holds Python helpers (file checks, partial MD5).
local bridge = ...
local M = {}

local reader_settings = { values = {} }
function reader_settings:readSetting(key, default)
    local value = self.values[key]
    if value == nil then return default end
    return value
end
function reader_settings:saveSetting(key, value) self.values[key] = value end
M.G_reader_settings = reader_settings

local DataStorage = { data_dir = bridge.data_dir }
function DataStorage:getDataDir() return self.data_dir end
function DataStorage:getDocSettingsDir() return self.data_dir .. "/docsettings" end
function DataStorage:getDocSettingsHashDir() return self.data_dir .. "/hashdocsettings" end
M.DataStorage = DataStorage

-- Stock DocSettings naming (frontend/docsettings.lua), before any plugin patch.
local DocSettings = {}
function DocSettings:getSidecarDir(doc_path, force_location)
    if doc_path == nil or doc_path == "" then return "" end
    local path = doc_path:match("(.*)%.") or doc_path
    local location = force_location or reader_settings:readSetting("document_metadata_folder", "doc")
    if location == "dir" then
        path = DataStorage:getDocSettingsDir() .. path
    elseif location == "hash" then
        local hsh = bridge.partial_md5(doc_path)
        if not hsh then return path .. ".sdr" end
        path = DataStorage:getDocSettingsHashDir() .. "/" .. hsh:sub(1, 2) .. "/" .. hsh
    end
    return path .. ".sdr"
end
function DocSettings.getSidecarFilename(doc_path)
    local suffix = doc_path:match(".*%.(.+)") or "_"
    return "metadata." .. suffix .. ".lua"
end
function DocSettings:findSidecarFile(doc_path)
    local name = DocSettings.getSidecarFilename(doc_path)
    for _, location in ipairs({ "doc", "dir" }) do
        local candidate = self:getSidecarDir(doc_path, location) .. "/" .. name
        if bridge.is_file(candidate) then return candidate, location end
    end
end
function DocSettings.openSettingsFile(sidecar_file)
    local chunk = assert(loadfile(sidecar_file))
    local data = chunk()
    return { data = data, readSetting = function(self, key) return self.data[key] end }
end
M.DocSettings = DocSettings

local crengine = { provider = "crengine", provider_name = "Cool Reader Engine" }
local DocumentRegistry = {
    providers = {
        { extension = "epub", provider = crengine, weight = 100 },
        { extension = "txt", provider = crengine, weight = 90 },
        { extension = "pdf", provider = { provider = "mupdf" }, weight = 100 },
    },
}
function DocumentRegistry:getProviders(file)
    local found = {}
    for _, p in ipairs(self.providers) do
        if file:lower():sub(-#p.extension - 1) == "." .. p.extension then table.insert(found, p) end
    end
    return #found > 0 and found or nil
end
function DocumentRegistry:getProvider(file)
    local providers = self:getProviders(file)
    if providers then return providers[1].provider end
    return { provider = "fallback-txt" }
end
function DocumentRegistry:hasProvider(file)
    return self:getProviders(file) ~= nil
end
M.DocumentRegistry = DocumentRegistry
M.crengine = crengine

M.lfs = {
    attributes = function(path, what)
        local mode = bridge.mode(path)
        if what == "mode" then return mode end
        if mode then return { mode = mode } end
    end,
}
return M
