--[[--
A JSON-RPC 2.0 client for the kksync daemon: one JSON object per line over a Unix socket.

One connection per call keeps the client stateless (no half-read responses left behind after
a timeout) and costs a few milliseconds on a local socket. Timeouts are short so the UI never
freezes for long: KOReader runs every call on its only thread.

Failures come back as `nil, err` where `err` is a table:
`{ kind = "unreachable"|"timeout"|"protocol"|"rpc", message = "<one line>",
   code = <rpc code>, data_kind = <kksync kind> }`.
]]

local RpcClient = {}
RpcClient.__index = RpcClient

local DEFAULT_CONNECT_TIMEOUT = 2
local DEFAULT_READ_TIMEOUT = 1

-- Asynchronous calls (callAsync): connecting and sending a request line to a local socket take
-- microseconds, but each is bounded anyway; then the answer is read without waiting, one look
-- per UI task, the looks spaced from FIRST_LOOK up to LAST_LOOK seconds apart.
RpcClient.SEND_TIMEOUT = 0.05
RpcClient.FIRST_LOOK = 0.02
RpcClient.LAST_LOOK = 0.25

--- Drops JSON nulls that a decoder represents as sentinels (rapidjson's `null`, dkjson's `json.null`).
local function withoutNulls(value, null)
    local kind = type(value)
    if value == nil or (null ~= nil and value == null) or kind == "userdata" or kind == "function" then
        return nil
    end
    if kind ~= "table" then
        return value
    end
    local clean = {}
    for key, item in pairs(value) do
        clean[key] = withoutNulls(item, null)
    end
    return clean
end
RpcClient.withoutNulls = withoutNulls

--- Creates a client.
-- @tparam table opts `socket_path`, `json` (encode/decode), `unix` (LuaSocket's `socket.unix`),
--   optional `connect_timeout`/`read_timeout` in seconds.
function RpcClient.new(opts)
    assert(opts.socket_path, "socket_path is required")
    return setmetatable({
        socket_path = opts.socket_path,
        json = opts.json,
        unix = opts.unix,
        connect_timeout = opts.connect_timeout or DEFAULT_CONNECT_TIMEOUT,
        read_timeout = opts.read_timeout or DEFAULT_READ_TIMEOUT,
        next_id = 1,
    }, RpcClient)
end

function RpcClient:_newSocket()
    local unix = self.unix
    if type(unix) == "function" then
        return unix()
    end
    if type(unix) == "table" and type(unix.stream) == "function" then
        return unix.stream()
    end
    return unix()
end

local function failure(kind, message, extra)
    local err = extra or {}
    err.kind = kind
    err.message = message
    return nil, err
end

function RpcClient:_connect()
    local ok, sock = pcall(self._newSocket, self)
    if not ok or not sock then
        return failure("unreachable", "cannot create a Unix socket: " .. tostring(sock))
    end
    sock:settimeout(self.connect_timeout)
    local connected, err = sock:connect(self.socket_path)
    if not connected then
        sock:close()
        return failure("unreachable",
            "kksync daemon does not answer on " .. self.socket_path .. " (" .. tostring(err) .. ")")
    end
    return sock
end

--- Reads lines until the response with our id (servers send nothing else, but be lenient).
function RpcClient:_readResponse(sock, id, read_timeout)
    sock:settimeout(read_timeout)
    while true do
        local line, err = sock:receive("*l")
        if not line then
            if err == "timeout" then
                return failure("timeout", "kksync daemon did not answer within " .. read_timeout .. " s")
            end
            return failure("protocol", "kksync daemon closed the connection (" .. tostring(err) .. ")")
        end
        local ok, decoded = pcall(self.json.decode, line)
        if not ok or type(decoded) ~= "table" then
            return failure("protocol", "kksync daemon sent something that is not JSON")
        end
        decoded = withoutNulls(decoded, self.json.null)
        if decoded.id == id then
            return decoded
        end
    end
end

--- The decoded response as `call` returns it: the result, or `nil, err`.
local function outcome(response)
    if response.error then
        local rpc_error = response.error
        local data = type(rpc_error.data) == "table" and rpc_error.data or {}
        return failure("rpc", tostring(rpc_error.message or "kksync daemon reported an error"),
            { code = rpc_error.code, data_kind = data.kind })
    end
    return response.result or {}
end

--- Calls one method and returns its result, or `nil, err`.
-- @string method e.g. "library.list"
-- @tparam ?table params omitted from the request when nil
-- @tparam ?number read_timeout seconds to wait for the answer (default: the client's)
function RpcClient:call(method, params, read_timeout)
    local id = self.next_id
    self.next_id = id + 1
    local request = { jsonrpc = "2.0", id = id, method = method, params = params }
    local sock, err = self:_connect()
    if not sock then
        return nil, err
    end
    local sent, send_err = sock:send(self.json.encode(request) .. "\n")
    if not sent then
        sock:close()
        return failure("unreachable", "could not send to the kksync daemon (" .. tostring(send_err) .. ")")
    end
    local response
    response, err = self:_readResponse(sock, id, read_timeout or self.read_timeout)
    sock:close()
    if not response then
        return nil, err
    end
    return outcome(response)
end

--- Starts a call and returns at once; `on_done(result, err)` runs later from a scheduled task.
-- The request is sent before this returns, so the daemon gets it even if KOReader quits before
-- the answer (the daemon answers what it received before stopping); only the answer is read later.
-- @tparam function schedule `schedule(seconds, fn)`, i.e. UIManager:scheduleIn
-- @tparam number timeout seconds to wait for the answer
-- @treturn table a handle with `cancel()`
function RpcClient:callAsync(method, params, timeout, schedule, on_done)
    local id = self.next_id
    self.next_id = id + 1
    local handle = { done = false }
    local function finish(result, err)
        if handle.done then return end
        handle.done = true
        if handle.sock then handle.sock:close() end
        on_done(result, err)
    end
    function handle.cancel()
        handle.done = true
        if handle.sock then handle.sock:close() end
    end
    local saved = self.connect_timeout
    self.connect_timeout = math.min(saved, RpcClient.SEND_TIMEOUT)
    local sock, err = self:_connect()
    self.connect_timeout = saved
    if not sock then
        schedule(0, function() finish(nil, err) end)
        return handle
    end
    handle.sock = sock
    local request = { jsonrpc = "2.0", id = id, method = method, params = params }
    sock:settimeout(RpcClient.SEND_TIMEOUT)
    local sent, send_err = sock:send(self.json.encode(request) .. "\n")
    if not sent then
        schedule(0, function()
            finish(failure("unreachable", "could not send to the kksync daemon (" .. tostring(send_err) .. ")"))
        end)
        return handle
    end
    sock:settimeout(0)
    local waited, pause, pending = 0, RpcClient.FIRST_LOOK, ""
    local function look()
        if handle.done then return end
        local line, read_err, partial = sock:receive("*l", pending)
        if line then
            local ok, decoded = pcall(self.json.decode, line)
            if not ok or type(decoded) ~= "table" then
                return finish(failure("protocol", "kksync daemon sent something that is not JSON"))
            end
            decoded = withoutNulls(decoded, self.json.null)
            if decoded.id ~= id then
                pending = ""
                return schedule(0, look) -- not ours (servers send nothing else): read on
            end
            return finish(outcome(decoded))
        end
        if read_err ~= "timeout" then
            return finish(failure("protocol", "kksync daemon closed the connection (" .. tostring(read_err) .. ")"))
        end
        pending = partial or pending
        if waited >= timeout then
            return finish(failure("timeout", "kksync daemon did not answer within " .. timeout .. " s"))
        end
        waited = waited + pause
        schedule(pause, look)
        pause = math.min(pause * 2, RpcClient.LAST_LOOK)
    end
    schedule(0, look)
    return handle
end

return RpcClient
