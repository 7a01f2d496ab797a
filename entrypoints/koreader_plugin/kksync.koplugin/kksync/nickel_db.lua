--[[--
Reading the library straight from Nickel's `KoboReader.sqlite`, read-only, when no daemon runs.

Browsing must never need Python, so this mirrors what `library.list` returns for the fields the
library view shows. Every value comes in through bound parameters; columns that older firmware
lacks (Series arrived with database version 65) are probed with `PRAGMA table_info` and read as
nil when missing. Books are rows with ContentType 6 and no BookID; a book is readable when its
file exists and Nickel holds no DRM keys for it (`content_keys`). Each book carries its
`image_id`; `covers` (kksync/covers) finds its thumbnail only when the reader asks for it, so
loading a large library costs no extra file checks.
]]

local Covers = require("kksync/covers")
local DevicePaths = require("kksync/device_paths")

local NickelDb = {}
NickelDb.__index = NickelDb

local ONBOARD = DevicePaths.ONBOARD
local SD_CARD = DevicePaths.SD_CARD

local WANTED_COLUMNS = {
    "ContentID", "Title", "Attribution", "Series", "SeriesNumber",
    "___PercentRead", "ReadStatus", "DateLastRead", "MimeType", "ImageId",
}

local KIND_BY_MIMETYPE = {
    ["application/x-kobo-epub+zip"] = "kepub",
    ["application/epub+zip"] = "epub",
    ["application/pdf"] = "pdf",
}

local STATUS_BY_READSTATUS = { [0] = "UNOPENED", [1] = "READING", [2] = "FINISHED" }

--- @tparam table opts `sqlite` (lua-ljsqlite3 module), `file_exists(path)`,
--   optional `device_root` (where `/mnt/onboard` is; the same path on the device), `db_path`
--   and `sd_root` (where the SD card's `/mnt/sd` is; defaults to `/mnt/sd` on the Kobo itself; false: none).
function NickelDb.new(opts)
    local root = opts.device_root or ONBOARD
    local sd_root = opts.sd_root
    if sd_root == nil and root == ONBOARD then
        sd_root = SD_CARD
    end
    return setmetatable({
        sqlite = opts.sqlite,
        file_exists = opts.file_exists,
        device_root = root,
        sd_root = sd_root,
        db_path = opts.db_path or (root .. "/.kobo/KoboReader.sqlite"),
        covers = Covers.new{ device_root = root, sd_root = sd_root, file_exists = opts.file_exists },
    }, NickelDb)
end

--- The file of a book on this device, from its ContentID (docs/reference/kobo.md §2.1), or nil
-- when the id names no place on the device (outside both mounts, `..`, a card that is not there).
-- Server and store books live in `.kobo/kepub/`, or on the SD card in `koboExtStorage/kepub/`.
function NickelDb:bookPath(content_id)
    local sideloaded = content_id:match("^file://(.*)$")
    if sideloaded then
        return DevicePaths.toLocal(sideloaded, self.device_root, self.sd_root)
    end
    if content_id == "" or content_id:find("/", 1, true) or content_id == ".." then
        return nil
    end
    local onboard = self.device_root .. "/.kobo/kepub/" .. content_id
    if self.sd_root and not self.file_exists(onboard) then
        local card = self.sd_root .. "/koboExtStorage/kepub/" .. content_id
        if self.file_exists(card) then
            return card
        end
    end
    return onboard
end

local function number(value)
    if value == nil then
        return nil
    end
    return tonumber(value)
end

local function text(value)
    if value == nil then
        return nil
    end
    local s = tostring(value)
    if s == "" then
        return nil
    end
    return s
end

--- Runs one query with bound parameters and returns its rows (arrays).
local function query(conn, sql, ...)
    local stmt = conn:prepare(sql)
    if select("#", ...) > 0 then
        stmt:bind(...)
    end
    local rows = {}
    while true do
        local row = stmt:step()
        if not row then
            break
        end
        local copy = {}
        for i = 1, #WANTED_COLUMNS do
            copy[i] = row[i]
        end
        rows[#rows + 1] = copy
    end
    stmt:close()
    return rows
end

local function contentColumns(conn)
    local present = {}
    for _, row in ipairs(query(conn, "SELECT name FROM pragma_table_info(?)", "content")) do
        present[tostring(row[1])] = true
    end
    return present
end

local function encryptedIds(conn)
    local tables = query(conn, "SELECT name FROM sqlite_master WHERE type = ? AND name = ?", "table", "content_keys")
    local ids = {}
    if #tables == 0 then
        return ids
    end
    for _, row in ipairs(query(conn, "SELECT DISTINCT volumeId FROM content_keys")) do
        ids[tostring(row[1])] = true
    end
    return ids
end

function NickelDb:_bookFromRow(row, encrypted)
    local content_id = tostring(row[1])
    local path = self:bookPath(content_id)
    local read_status = number(row[7]) or 0
    local percent = number(row[6]) or 0
    if read_status == 2 and percent == 0 then
        percent = 100 -- Nickel leaves 0 % on books marked finished without reading.
    end
    return {
        book_id = content_id,
        title = text(row[2]),
        author = text(row[3]),
        series = text(row[4]),
        series_number = text(row[5]),
        kind = KIND_BY_MIMETYPE[text(row[9]) or ""] or "other",
        path = path,
        cover = nil, -- the daemon's field; here `covers` finds it from image_id on demand
        image_id = text(row[10]),
        readable = path ~= nil and not encrypted[content_id] and self.file_exists(path),
        kobo = {
            percent = percent,
            status = STATUS_BY_READSTATUS[read_status] or "READING",
            updated_at = text(row[8]),
        },
        koreader = nil,
    }
end

--- Every book row of Nickel's database (readable or not), or `nil, message`.
function NickelDb:books()
    if not self.sqlite then
        return nil, "This KOReader has no SQLite binding (lua-ljsqlite3), so it cannot read " .. self.db_path .. "."
    end
    local ok, conn = pcall(self.sqlite.open, self.db_path, "ro")
    if not ok or not conn then
        return nil, "Cannot open the Kobo database " .. self.db_path .. ": " .. tostring(conn)
    end
    local read_ok, result = pcall(function()
        local present = contentColumns(conn)
        local select_list = {}
        for i, column in ipairs(WANTED_COLUMNS) do
            select_list[i] = present[column] and column or "NULL"
        end
        local sql = "SELECT " .. table.concat(select_list, ", ")
            .. " FROM content WHERE ContentType = ? AND BookID IS NULL"
        local encrypted = encryptedIds(conn)
        local books = {}
        for _, row in ipairs(query(conn, sql, "6")) do
            books[#books + 1] = self:_bookFromRow(row, encrypted)
        end
        return books
    end)
    conn:close()
    if not read_ok then
        return nil, "Cannot read the Kobo database " .. self.db_path .. ": " .. tostring(result)
    end
    return result
end

return NickelDb
