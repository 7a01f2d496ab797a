--[[--
Where Nickel keeps a book's cover thumbnails, so the library can show them without the daemon.

This is the Lua twin of kksync's `adapters/kobo/covers.py` and must give the same answers
(tests/plugin/test_covers.py runs both on the same ImageIds). Nickel caches covers under
`.kobo-images/<a>/<b>/<ImageId> - <variant>.parsed` on the user partition and under
`koboExtStorage/images-cache/<a>/<b>/` on an SD card; `a` and `b` are the low two bytes of
Qt 4's string hash of the ImageId's UTF-8 bytes. A book without an ImageId that was sideloaded
gets one from its ContentID. The daemon reports covers as on-device paths (`/mnt/onboard/...`,
`/mnt/sd/...`); `localPath` maps them to where this KOReader sees the device.
]]

local bit = require("bit")
local DevicePaths = require("kksync/device_paths")

local Covers = {}
Covers.__index = Covers

Covers.MAIN_CACHE = ".kobo-images"
Covers.CARD_CACHE = "koboExtStorage/images-cache"
--- Thumbnails first (the library grid), the full-screen cover last.
Covers.VARIANTS = { "N3_LIBRARY_GRID", "N3_LIBRARY_FULL", "N3_LIBRARY_LIST", "N3_FULL" }

local ONBOARD = DevicePaths.ONBOARD
local HASH_MASK = 0x0FFFFFFF
local HIGH_NIBBLE = 0xF0000000

--- Qt 4's `qHash` of a string's bytes (UTF-8 here, as Nickel uses it for cover folders).
-- LuaJIT's bit operations work on signed 32-bit numbers; the 28-bit mask makes the result
-- non-negative, so it equals the unsigned value Qt computes.
function Covers.qtStringHash(text)
    local value = 0
    for i = 1, #text do
        value = bit.lshift(value, 4) + text:byte(i)
        value = bit.bxor(value, bit.rshift(bit.band(value, HIGH_NIBBLE), 23))
        value = bit.band(value, HASH_MASK)
    end
    return value
end

--- The two-level folder (`"<a>/<b>"`, relative to a cache root) that holds this ImageId's covers.
function Covers.folder(image_id)
    local value = Covers.qtStringHash(image_id)
    return string.format("%d/%d", bit.band(value, 0xFF), bit.band(bit.rshift(value, 8), 0xFF))
end

--- Nickel's cover id of a sideloaded book: the ContentID with every `/`, space, `:` and `.`
-- made `_` (the rest, `(`, `&`, `,` and non-ASCII letters included, stays as it is).
function Covers.sideloadedImageId(content_id)
    return (content_id:gsub("[/ :%.]", "_"))
end

--- The book's ImageId, or the one Nickel derives from a sideloaded book's ContentID; nil otherwise.
function Covers.imageIdOf(image_id, content_id)
    if type(image_id) == "string" and image_id ~= "" then
        return image_id
    end
    if type(content_id) == "string" and content_id:sub(1, 7) == "file://" then
        return Covers.sideloadedImageId(content_id)
    end
    return nil
end

--- @tparam table opts `file_exists(path)`, optional `device_root` (where `/mnt/onboard` is
--   for this KOReader; the same path on the Kobo) and `sd_root` (where `/mnt/sd` is; nil = no card)
function Covers.new(opts)
    return setmetatable({
        device_root = opts.device_root or ONBOARD,
        sd_root = opts.sd_root,
        file_exists = opts.file_exists,
    }, Covers)
end

--- The cache roots to look in, the user partition's first.
function Covers:caches()
    local caches = { self.device_root .. "/" .. Covers.MAIN_CACHE }
    if self.sd_root then
        caches[#caches + 1] = self.sd_root .. "/" .. Covers.CARD_CACHE
    end
    return caches
end

--- The best existing thumbnail of a book (local path), or nil when Nickel made none.
function Covers:find(image_id, content_id)
    local id = Covers.imageIdOf(image_id, content_id)
    if not id then
        return nil
    end
    local folder = Covers.folder(id)
    for _, cache in ipairs(self:caches()) do
        for _, variant in ipairs(Covers.VARIANTS) do
            local candidate = string.format("%s/%s/%s - %s.parsed", cache, folder, id, variant)
            if self.file_exists(candidate) then
                return candidate
            end
        end
    end
    return nil
end

--- Where an on-device path (as the daemon reports it) is for this KOReader.
function Covers:localPath(device_path)
    return DevicePaths.toLocal(device_path, self.device_root, self.sd_root) or device_path
end

--- The cover file to show for a library book, or nil: the daemon's `cover` when it sent one,
-- else the thumbnail found from the book's ImageId (database fallback). Only existing files.
function Covers:coverFile(book)
    if type(book.cover) == "string" and book.cover ~= "" then
        local path = self:localPath(book.cover)
        if self.file_exists(path) then
            return path
        end
        return nil
    end
    return self:find(book.image_id, book.book_id)
end

return Covers
