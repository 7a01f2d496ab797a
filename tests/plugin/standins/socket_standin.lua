-- LuaSocket's `socket.unix` client API (settimeout, connect, send, receive "*l", close),
-- backed by a Python AF_UNIX socket. `bridge` holds the Python functions.
local bridge = ...
local Sock = {}
Sock.__index = Sock
function Sock:settimeout(t) bridge.settimeout(self.id, t) return 1 end
function Sock:connect(path) return bridge.connect(self.id, path) end
function Sock:send(data) return bridge.send(self.id, data) end
function Sock:receive(pattern, prefix) return bridge.receive(self.id, pattern, prefix) end
function Sock:close() bridge.close(self.id) return 1 end

local unix = {}
function unix.stream() return setmetatable({ id = bridge.new() }, Sock) end
return setmetatable(unix, { __call = function() return unix.stream() end })
