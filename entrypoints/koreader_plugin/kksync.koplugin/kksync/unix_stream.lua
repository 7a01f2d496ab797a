--[[--
A Unix-domain stream socket through LuaJIT's FFI, for KOReaders without `socket.unix`.

KOReader bundles LuaSocket but builds only its TCP/UDP core (`socket.score`), not the `unix`
module, so on a real device the daemon's socket can only be reached through libc directly.
This module offers the small part of LuaSocket's `socket.unix` API that `kksync/rpc_client`
uses — `stream()`, then `settimeout`, `connect`, `send`, `receive("*l")` and `close` — with the
same return conventions (`nil, "timeout"`, `nil, "closed"`, `nil, <message>`).

The descriptor is non-blocking and every wait goes through `poll` with what is left of the
timeout, so a call never blocks KOReader's only thread for longer than the caller allows.
A timeout covers a whole `connect`, `send` or `receive` call, not each system call. Writes use
`MSG_NOSIGNAL` (Linux) or `SO_NOSIGPIPE` (macOS): a daemon that hangs up mid-call must not kill
KOReader with SIGPIPE. libc functions are declared under kksync_* names (`__asm__` symbol
redirection) and structs under kksync_* tags, so they cannot clash with KOReader's own cdefs.
]]

local bit = require("bit")
local has_ffi, ffi = pcall(require, "ffi")

local UnixStream = {}

local C
local sys

local LINUX = {
    family_layout = "linux", path_size = 108,
    AF_UNIX = 1, SOCK_STREAM = 1, SOCK_FLAGS = 0x80000 + 0x800, -- SOCK_CLOEXEC | SOCK_NONBLOCK
    F_GETFL = 3, F_SETFL = 4, F_SETFD = 2, FD_CLOEXEC = 1, O_NONBLOCK = 0x800,
    EINTR = 4, EAGAIN = 11, EINPROGRESS = 115,
    SOL_SOCKET = 1, SO_ERROR = 4, SO_NOSIGPIPE = nil, MSG_NOSIGNAL = 0x4000,
    CLOCK_MONOTONIC = 1,
}

local MACOS = {
    family_layout = "bsd", path_size = 104,
    AF_UNIX = 1, SOCK_STREAM = 1, SOCK_FLAGS = 0,
    F_GETFL = 3, F_SETFL = 4, F_SETFD = 2, FD_CLOEXEC = 1, O_NONBLOCK = 0x4,
    EINTR = 4, EAGAIN = 35, EINPROGRESS = 36,
    SOL_SOCKET = 0xffff, SO_ERROR = 0x1007, SO_NOSIGPIPE = 0x1022, MSG_NOSIGNAL = 0,
    CLOCK_MONOTONIC = 6,
}

local POLLIN, POLLOUT = 0x1, 0x4
local READ_CHUNK = 4096

local function declare()
    -- pcall: a second load of this module in the same Lua state must not fail on redefinition.
    pcall(ffi.cdef, [[
        struct kksync_sockaddr_un_linux { unsigned short sun_family; char sun_path[108]; };
        struct kksync_sockaddr_un_bsd { unsigned char sun_len; unsigned char sun_family; char sun_path[104]; };
        struct kksync_pollfd { int fd; short events; short revents; };
        struct kksync_timespec { long tv_sec; long tv_nsec; };
    ]])
    ffi.cdef[[
        int kksync_socket(int domain, int type, int protocol) __asm__("socket");
        int kksync_connect(int fd, const void *addr, unsigned int len) __asm__("connect");
        long kksync_send(int fd, const void *buf, unsigned long len, int flags) __asm__("send");
        long kksync_read(int fd, void *buf, unsigned long len) __asm__("read");
        int kksync_close(int fd) __asm__("close");
        int kksync_poll(struct kksync_pollfd *fds, unsigned long nfds, int timeout) __asm__("poll");
        int kksync_fcntl(int fd, int cmd, ...) __asm__("fcntl");
        int kksync_getsockopt(int fd, int level, int name, void *value, unsigned int *len) __asm__("getsockopt");
        int kksync_setsockopt(int fd, int level, int name, const void *value, unsigned int len) __asm__("setsockopt");
        int kksync_clock_gettime(int clock, struct kksync_timespec *now) __asm__("clock_gettime");
        char *kksync_strerror(int errnum) __asm__("strerror");
    ]]
    C = ffi.C
end

--- True when this LuaJIT can open Unix sockets through the FFI (Linux and macOS).
function UnixStream.available()
    if not has_ffi then
        return false
    end
    if not sys then
        sys = (ffi.os == "Linux" and LINUX) or (ffi.os == "OSX" and MACOS) or nil
        if sys then
            declare()
        end
    end
    return sys ~= nil
end

local function now()
    local spec = ffi.new("struct kksync_timespec")
    C.kksync_clock_gettime(sys.CLOCK_MONOTONIC, spec)
    return tonumber(spec.tv_sec) + tonumber(spec.tv_nsec) / 1e9
end

local function describe(errno)
    return ffi.string(C.kksync_strerror(errno))
end

local Stream = {}
Stream.__index = Stream

--- A new, unconnected stream socket, or `nil, message`.
function UnixStream.stream()
    if not UnixStream.available() then
        return nil, "no FFI Unix sockets on this system"
    end
    local fd = C.kksync_socket(sys.AF_UNIX, sys.SOCK_STREAM + sys.SOCK_FLAGS, 0)
    if fd < 0 then
        return nil, describe(ffi.errno())
    end
    if sys.SOCK_FLAGS == 0 then
        C.kksync_fcntl(fd, sys.F_SETFD, ffi.new("int", sys.FD_CLOEXEC))
        local flags = C.kksync_fcntl(fd, sys.F_GETFL)
        C.kksync_fcntl(fd, sys.F_SETFL, ffi.new("int", bit.bor(flags, sys.O_NONBLOCK)))
    end
    if sys.SO_NOSIGPIPE then
        local one = ffi.new("int[1]", 1)
        C.kksync_setsockopt(fd, sys.SOL_SOCKET, sys.SO_NOSIGPIPE, one, ffi.sizeof("int"))
    end
    return setmetatable({ fd = fd, timeout = nil, parts = {}, has_newline = false }, Stream)
end

--- Seconds a whole call may wait; nil or negative = wait as long as it takes.
function Stream:settimeout(seconds)
    if seconds ~= nil and seconds >= 0 then
        self.timeout = seconds
    else
        self.timeout = nil
    end
    return 1
end

function Stream:_deadline()
    return self.timeout and (now() + self.timeout) or nil
end

--- Waits until the descriptor is ready for `events`; true, or `nil, "timeout"` / `nil, message`.
function Stream:_wait(events, deadline)
    local pollfd = ffi.new("struct kksync_pollfd[1]")
    while true do
        local millis = -1
        if deadline then
            millis = math.max(0, math.floor((deadline - now()) * 1000 + 0.5))
        end
        pollfd[0].fd = self.fd
        pollfd[0].events = events
        pollfd[0].revents = 0
        local ready = C.kksync_poll(pollfd, 1, millis)
        if ready > 0 then
            return true
        end
        if ready == 0 then
            if deadline == nil or now() >= deadline then
                return nil, "timeout"
            end
        else
            local errno = ffi.errno()
            if errno ~= sys.EINTR then
                return nil, describe(errno)
            end
        end
    end
end

local function address(path)
    if #path >= sys.path_size then
        return nil, "socket path is too long for a Unix socket (" .. #path .. " bytes)"
    end
    local addr
    if sys.family_layout == "linux" then
        addr = ffi.new("struct kksync_sockaddr_un_linux")
    else
        addr = ffi.new("struct kksync_sockaddr_un_bsd")
        addr.sun_len = ffi.sizeof(addr)
    end
    addr.sun_family = sys.AF_UNIX
    ffi.copy(addr.sun_path, path)
    return addr
end

--- Connects to the socket at `path`: 1, or `nil, message`.
function Stream:connect(path)
    if not self.fd then
        return nil, "closed"
    end
    local addr, err = address(path)
    if not addr then
        return nil, err
    end
    local deadline = self:_deadline()
    while true do
        if C.kksync_connect(self.fd, addr, ffi.sizeof(addr)) == 0 then
            return 1
        end
        local errno = ffi.errno()
        if errno == sys.EINPROGRESS then
            return self:_finishConnect(deadline)
        elseif errno == sys.EAGAIN then
            -- A Unix socket's backlog is full: try again shortly, within the timeout.
            if deadline and now() >= deadline then
                return nil, "timeout"
            end
            C.kksync_poll(nil, 0, 10)
        elseif errno ~= sys.EINTR then
            return nil, describe(errno)
        end
    end
end

function Stream:_finishConnect(deadline)
    local ready, err = self:_wait(POLLOUT, deadline)
    if not ready then
        return nil, err
    end
    local value = ffi.new("int[1]")
    local size = ffi.new("unsigned int[1]", ffi.sizeof("int"))
    if C.kksync_getsockopt(self.fd, sys.SOL_SOCKET, sys.SO_ERROR, value, size) ~= 0 then
        return nil, describe(ffi.errno())
    end
    if value[0] ~= 0 then
        return nil, describe(value[0])
    end
    return 1
end

--- Sends all of `data`: the number of bytes, or `nil, "timeout"` / `nil, "closed"` / `nil, message`.
function Stream:send(data)
    if not self.fd then
        return nil, "closed"
    end
    local deadline = self:_deadline()
    local sent = 0
    while sent < #data do
        local start = ffi.cast("const char *", data) + sent
        local count = tonumber(C.kksync_send(self.fd, start, #data - sent, sys.MSG_NOSIGNAL))
        if count >= 0 then
            sent = sent + count
        else
            local again, err = self:_afterFailure(POLLOUT, deadline)
            if not again then
                return nil, err
            end
        end
    end
    return sent
end

--- After a failed read or write: true to try again (EINTR at once, EAGAIN once the descriptor
-- is ready for `events`), else `nil, "timeout"` / `nil, message`. Reads errno first thing.
function Stream:_afterFailure(events, deadline)
    local errno = ffi.errno()
    if errno == sys.EINTR then
        return true
    end
    if errno == sys.EAGAIN then
        return self:_wait(events, deadline)
    end
    return nil, describe(errno)
end

--- Reads one line without its "\n" (and, as LuaSocket does, without any "\r"): `receive("*l")`.
-- Returns the line, or `nil, "timeout"` / `nil, "closed"` / `nil, message`.
-- Linear in the line's length: only each new chunk is searched for the newline, and the chunks
-- are joined once (a 1 MB `library.list` reply is not re-scanned and re-copied per 4 KB read).
-- A timeout keeps what arrived for the next call.
function Stream:receive(pattern)
    if pattern ~= nil and pattern ~= "*l" then
        error("kksync/unix_stream reads lines only (\"*l\"), not " .. tostring(pattern))
    end
    if not self.fd then
        return nil, "closed"
    end
    local deadline = self:_deadline()
    local chunk = ffi.new("char[?]", READ_CHUNK)
    while true do
        local line = self:_takeLine()
        if line then
            return line
        end
        local count = tonumber(C.kksync_read(self.fd, chunk, READ_CHUNK))
        if count > 0 then
            self:_append(ffi.string(chunk, count))
        elseif count == 0 then
            return nil, "closed"
        else
            local again, err = self:_afterFailure(POLLIN, deadline)
            if not again then
                return nil, err
            end
        end
    end
end

--- Keeps a received piece; remembers whether it (the only unsearched text) holds a newline.
function Stream:_append(piece)
    local parts = self.parts
    parts[#parts + 1] = piece
    if not self.has_newline and piece:find("\n", 1, true) then
        self.has_newline = true
    end
end

--- The first complete line from what was received, or nil (nothing is joined until one is there).
function Stream:_takeLine()
    if not self.has_newline then
        return nil
    end
    local text = table.concat(self.parts)
    local newline = text:find("\n", 1, true)
    local rest = text:sub(newline + 1)
    self.parts = { rest }
    self.has_newline = rest:find("\n", 1, true) ~= nil
    return (text:sub(1, newline - 1):gsub("\r", ""))
end

--- Closes the descriptor (more than once is harmless).
function Stream:close()
    if self.fd then
        C.kksync_close(self.fd)
        self.fd = nil
    end
    return 1
end

return UnixStream
