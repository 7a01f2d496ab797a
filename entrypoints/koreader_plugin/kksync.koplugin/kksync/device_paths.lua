--[[--
On-device paths (`/mnt/onboard/...`, `/mnt/sd/...`, as Nickel and the daemon write them) mapped
to where this KOReader sees the device: the same place on the Kobo, elsewhere in an emulator
(`KKSYNC_DEVICE_ROOT`). The Lua twin of `adapters/device.py`'s `to_host`: a path that leaves its
mount through `..`, or is on a card that is not there, maps to nothing.
]]

local DevicePaths = {
    ONBOARD = "/mnt/onboard",
    SD_CARD = "/mnt/sd",
}

--- The rest of `path` below `mount` ("" for the mount itself, "/x/y" below it), or nil.
local function below(path, mount)
    if path == mount then
        return ""
    end
    if path:sub(1, #mount + 1) == mount .. "/" then
        return path:sub(#mount + 1)
    end
    return nil
end

--- Whether a path climbs out of its folder (a `..` segment).
local function climbs(path)
    return ("/" .. path .. "/"):find("/%.%./") ~= nil
end

--- The local path of an on-device path, or nil when it names no place on this device.
-- @string device_path e.g. "/mnt/onboard/Books/A.epub"
-- @string device_root where `/mnt/onboard` is for this KOReader
-- @tparam ?string sd_root where `/mnt/sd` is (nil or false: no card)
function DevicePaths.toLocal(device_path, device_root, sd_root)
    if climbs(device_path) then
        return nil
    end
    local rest = below(device_path, DevicePaths.ONBOARD)
    if rest then
        return device_root .. rest
    end
    rest = below(device_path, DevicePaths.SD_CARD)
    if rest and sd_root then
        return sd_root .. rest
    end
    return nil
end

return DevicePaths
