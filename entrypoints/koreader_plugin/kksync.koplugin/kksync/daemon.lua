--[[--
Finding the kksync daemon and talking to it.

The Kobo's user partition is FAT and cannot hold a socket, so the daemon writes where its
socket is into `<device>/.adds/kksync/daemon.json` while it runs (docs/rpc.md). No file means
no daemon; a file whose socket does not answer means a daemon that died without cleaning up.
Every failure is turned into one sentence a reader understands. A daemon.json written by a daemon
on another computer (one that had the Kobo mounted over USB) names that computer's host and is
ignored. While the daemon the plugin started has not announced itself yet, it is "starting".
]]

local RpcClient = require("kksync/rpc_client")

local Daemon = {}
Daemon.__index = Daemon

--- This machine's host name, as the daemon's Python writes it (`socket.gethostname()`), or nil.
local function localHostname()
    local ok, name = pcall(function()
        local ffi = require("ffi")
        pcall(ffi.cdef, "int kksync_gethostname(char *name, size_t len) __asm__(\"gethostname\");")
        local buffer = ffi.new("char[256]")
        if ffi.C.kksync_gethostname(buffer, 255) ~= 0 then
            return nil
        end
        return ffi.string(buffer)
    end)
    return ok and name or nil
end
Daemon.localHostname = localHostname

--- @tparam table opts `device_root` (default "/mnt/onboard"), `json`, `unix`, optional timeouts,
--   `schedule(seconds, fn)` (UIManager:scheduleIn) for asynchronous calls, `hostname()`,
--   `starting()` (true while the daemon the plugin launched has not announced itself)
function Daemon.new(opts)
    return setmetatable({
        device_root = opts.device_root or "/mnt/onboard",
        json = opts.json,
        unix = opts.unix,
        connect_timeout = opts.connect_timeout,
        read_timeout = opts.read_timeout,
        open_file = opts.open_file or io.open,
        schedule = opts.schedule,
        hostname = opts.hostname or localHostname,
        starting = opts.starting or function() return false end,
    }, Daemon)
end

Daemon.STARTING = "kksync is starting…"

function Daemon:infoPath()
    return self.device_root .. "/.adds/kksync/daemon.json"
end

--- The parsed daemon.json, or `nil, message`.
function Daemon:readInfo()
    local path = self:infoPath()
    local file = self.open_file(path, "r")
    if not file then
        if self.starting() then
            return nil, Daemon.STARTING
        end
        return nil, "The kksync daemon is not running (no " .. path .. ")."
    end
    local text = file:read("*a")
    file:close()
    local ok, info = pcall(self.json.decode, text or "")
    if not ok or type(info) ~= "table" or type(info.socket) ~= "string" or info.socket == "" then
        return nil, "The kksync daemon file " .. path .. " is unreadable; restart the daemon."
    end
    local here = self.hostname()
    if type(info.host) == "string" and here and info.host ~= here then
        -- Left by a daemon on a computer that had the Kobo mounted: not a daemon for us.
        if self.starting() then
            return nil, Daemon.STARTING
        end
        return nil, "The kksync daemon is not running on this device."
    end
    return info
end

--- A client for the running daemon, or `nil, message`.
function Daemon:client()
    local info, message = self:readInfo()
    if not info then
        return nil, message
    end
    if not self.unix then
        return nil, "This KOReader can open no Unix socket (neither LuaJIT's FFI nor socket.unix), "
            .. "so it cannot reach kksync."
    end
    return RpcClient.new{
        socket_path = info.socket,
        json = self.json,
        unix = self.unix,
        connect_timeout = self.connect_timeout,
        read_timeout = self.read_timeout,
    }
end

local function explain(err)
    if err.kind == "unreachable" then
        return "The kksync daemon is not running: " .. err.message .. ". Start it with `kksync daemon`."
    end
    return "kksync: " .. err.message
end

--- Calls one method; returns the result or `nil, message, err`.
-- `message` is ready to show; `err` is the client's error table (nil when no daemon file exists).
function Daemon:call(method, params, read_timeout)
    local client, message = self:client()
    if not client then
        return nil, message
    end
    local result, err = client:call(method, params, read_timeout)
    if result then
        return result
    end
    return nil, explain(err), err
end

--- Starts one call without waiting; `on_done(result, message, err)` runs from a UI task later.
-- The request is on its way when this returns (see RpcClient:callAsync).
function Daemon:callAsync(method, params, timeout, on_done)
    local client, message = self:client()
    if not client then
        self.schedule(0, function() on_done(nil, message) end)
        return nil
    end
    return client:callAsync(method, params, timeout or client.read_timeout, self.schedule, function(result, err)
        if result then
            on_done(result)
        else
            on_done(nil, explain(err), err)
        end
    end)
end

--- Whether a daemon answers right now (a cheap `status` call).
function Daemon:isReachable()
    local result, message = self:call("status")
    return result ~= nil, message, result
end

return Daemon
