--[[--
Sidecar names for the extension-less kepubs Nickel keeps in `.kobo/kepub/<ContentID>`.

Stock KOReader strips "everything after the last dot of the whole path", so for
`/mnt/onboard/.kobo/kepub/<id>` it lands on `/mnt/onboard.sdr/metadata.kobo/kepub/<id>.lua`:
every such book would share one nonsensical directory. The kksync Python adapter names
these sidecars like an `.epub` whose stem is the whole path, and this module makes
KOReader agree with it exactly:

* doc  mode: `<file>.sdr/metadata.epub.lua`
* dir  mode: `<data>/docsettings<file>.sdr/metadata.epub.lua`
* hash mode: `<data>/hashdocsettings/<h2>/<h>.sdr/metadata.epub.lua` (stock partial MD5 of the file;
  when the file cannot be hashed KOReader falls back to the doc location, and so do we)

Only files directly in Nickel's kepub folders whose name has no dot are touched; everything
else goes to the stock functions unchanged.
]]

local SidecarNaming = {
    FILENAME = "metadata.epub.lua",
    -- The folders Nickel keeps server and store books in, as KOReader on the Kobo sees them;
    -- the same list as adapters/koreader/locations.py KEPUB_FOLDERS.
    kepub_folders = { "/mnt/onboard/.kobo/kepub", "/mnt/sd/koboExtStorage/kepub" },
}

--- Also treat `<device_root>/.kobo/kepub` as Nickel's kepub folder (KKSYNC_DEVICE_ROOT, emulators).
function SidecarNaming.addDeviceRoot(device_root)
    local folder = device_root .. "/.kobo/kepub"
    for _i, known in ipairs(SidecarNaming.kepub_folders) do
        if known == folder then
            return
        end
    end
    table.insert(SidecarNaming.kepub_folders, folder)
end

--- Whether KOReader's stock naming would mangle this path: a file directly in one of Nickel's
-- kepub folders whose name has no dot.
function SidecarNaming.isKepubPath(path)
    if type(path) ~= "string" then
        return false
    end
    local folder, name = path:match("^(.*)/([^/]+)$")
    if not folder or name:find(".", 1, true) then
        return false
    end
    for _i, known in ipairs(SidecarNaming.kepub_folders) do
        if folder == known then
            return true
        end
    end
    return false
end

--- The sidecar directory of a Nickel kepub for one location.
-- @string path the kepub's absolute path
-- @string location "doc", "dir" or "hash"
-- @string docsettings_dir KOReader's `<data>/docsettings`
-- @tparam ?string hashed_dir what stock KOReader computed for the hash location (nil to skip)
-- @string hash_root KOReader's `<data>/hashdocsettings`
function SidecarNaming.kepubSidecarDir(path, location, docsettings_dir, hashed_dir, hash_root)
    if location == "dir" then
        return docsettings_dir .. path .. ".sdr"
    end
    if location == "hash" and hashed_dir and hash_root
            and hashed_dir:sub(1, #hash_root + 1) == hash_root .. "/" then
        return hashed_dir
    end
    return path .. ".sdr"
end

--- Patches DocSettings so KOReader reads and writes kepub sidecars where kksync does.
-- Idempotent: a second call (a second plugin instance) changes nothing.
-- @tparam table DocSettings KOReader's `docsettings` module
-- @tparam table DataStorage KOReader's `datastorage` module
-- @func preferred_location returns the `document_metadata_folder` setting ("doc" by default)
function SidecarNaming.install(DocSettings, DataStorage, preferred_location)
    if DocSettings.kksync_stock_getSidecarDir then
        return false
    end
    local stock_dir = DocSettings.getSidecarDir
    local stock_filename = DocSettings.getSidecarFilename
    local stock_file = DocSettings.getSidecarFile
    DocSettings.kksync_stock_getSidecarDir = stock_dir
    local docsettings_dir = DataStorage:getDocSettingsDir()
    local hash_root = DataStorage.getDocSettingsHashDir and DataStorage:getDocSettingsHashDir()

    DocSettings.getSidecarDir = function(self, doc_path, force_location)
        if not SidecarNaming.isKepubPath(doc_path) then
            return stock_dir(self, doc_path, force_location)
        end
        local location = force_location or preferred_location()
        local hashed = nil
        if location == "hash" then
            hashed = stock_dir(self, doc_path, "hash")
        end
        return SidecarNaming.kepubSidecarDir(doc_path, location, docsettings_dir, hashed, hash_root)
    end

    if stock_filename then
        DocSettings.getSidecarFilename = function(doc_path)
            if SidecarNaming.isKepubPath(doc_path) then
                return SidecarNaming.FILENAME
            end
            return stock_filename(doc_path)
        end
    end

    -- KOReader releases before getSidecarFilename built the file path in getSidecarFile.
    if stock_file then
        DocSettings.getSidecarFile = function(self, doc_path, force_location)
            if SidecarNaming.isKepubPath(doc_path) then
                return self:getSidecarDir(doc_path, force_location) .. "/" .. SidecarNaming.FILENAME
            end
            return stock_file(self, doc_path, force_location)
        end
    end
    return true
end

return SidecarNaming
