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

-- DocumentRegistry (frontend/document/documentregistry.lua): providers by extension; getProvider
-- honours the user's "Open with" association first (for one file — the sidecar's `provider` key —
-- or for a file type, G_reader_settings "provider"), returning `provider, true`; a file with no
-- provider of its own gets the fallback, and hasProvider says no.
local crengine = { provider = "crengine", provider_name = "Cool Reader Engine" }
local mupdf = { provider = "mupdf", provider_name = "MuPDF" }
local fallback = { provider = "fallback-txt" }
local DocumentRegistry = {
    providers = {
        { extension = "epub", provider = crengine, weight = 100 },
        { extension = "txt", provider = crengine, weight = 90 },
        { extension = "pdf", provider = mupdf, weight = 100 },
    },
    known_providers = { crengine = crengine, mupdf = mupdf },
    file_associations = {}, -- path -> provider key, as "Open with… → for this file" stores in the sidecar
}
local function suffixOf(file)
    return (file:match("%.([^./]+)$") or ""):lower()
end
function DocumentRegistry:getProviders(file)
    local found = {}
    for _, p in ipairs(self.providers) do
        if file:lower():sub(-#p.extension - 1) == "." .. p.extension then table.insert(found, p) end
    end
    return #found > 0 and found or nil
end
function DocumentRegistry:getAssociatedProviderKey(file)
    local key = self.file_associations[file]
    if key then return key end
    local by_type = reader_settings:readSetting("provider")
    key = by_type and by_type[suffixOf(file)]
    if key and self.known_providers[key] then return key end
end
function DocumentRegistry:getFallbackProvider() return fallback end
function DocumentRegistry:getProvider(file, include_aux)
    local providers = self:getProviders(file)
    if providers or include_aux then
        local key = self:getAssociatedProviderKey(file)
        local provider = key and self.known_providers[key]
        if provider and (not provider.order or include_aux) then return provider, true end
        return providers and providers[1].provider
    end
    return self:getFallbackProvider()
end
function DocumentRegistry:hasProvider(file)
    if self:getProviders(file) ~= nil then return true end
    local by_type = reader_settings:readSetting("provider")
    if by_type and by_type[suffixOf(file)] then return true end
    return self.file_associations[file] ~= nil
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
