--[[--
Finding the kksync daemon and talking to it.

The Kobo's user partition is FAT and cannot hold a socket, so the daemon writes where its
socket is into `<device>/.adds/kksync/daemon.json` while it runs (docs/rpc.md). No file means
no daemon; a file whose socket does not answer means a daemon that died without cleaning up.
Every failure is turned into one sentence a reader understands.
]]

local RpcClient = require("kksync/rpc_client")

local Daemon = {}
Daemon.__index = Daemon

--- @tparam table opts `device_root` (default "/mnt/onboard"), `json`, `unix`, optional timeouts
function Daemon.new(opts)
    return setmetatable({
        device_root = opts.device_root or "/mnt/onboard",
        json = opts.json,
        unix = opts.unix,
        connect_timeout = opts.connect_timeout,
        read_timeout = opts.read_timeout,
        open_file = opts.open_file or io.open,
    }, Daemon)
end

function Daemon:infoPath()
    return self.device_root .. "/.adds/kksync/daemon.json"
end

--- The parsed daemon.json, or `nil, message`.
function Daemon:readInfo()
    local path = self:infoPath()
    local file = self.open_file(path, "r")
    if not file then
        return nil, "The kksync daemon is not running (no " .. path .. ")."
    end
    local text = file:read("*a")
    file:close()
    local ok, info = pcall(self.json.decode, text or "")
    if not ok or type(info) ~= "table" or type(info.socket) ~= "string" or info.socket == "" then
        return nil, "The kksync daemon file " .. path .. " is unreadable; restart the daemon."
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
    if err.kind == "unreachable" then
        return nil, "The kksync daemon is not running: " .. err.message .. ". Start it with `kksync daemon`.", err
    end
    return nil, "kksync: " .. err.message, err
end

--- Whether a daemon answers right now (a cheap `status` call).
function Daemon:isReachable()
    local result, message = self:call("status")
    return result ~= nil, message, result
end

return Daemon
