--[[--
Starting and stopping the bundled kksync daemon from KOReader.

At KOReader start the plugin runs the bundle's launcher (`/mnt/onboard/.adds/kksync/bin/kksync`)
in the background through the shell, as the SSH plugin starts dropbear: `os.execute` returns as
soon as the shell has put the daemon in the background. Its socket and pid file go to `/tmp`
(the FAT partition cannot hold a socket); its log to `.adds/kksync/daemon.log`.

The daemon must never outlive KOReader (it would keep the partition busy when USB storage mode
starts), so it gets the read end of a pipe (`--parent-fd`) whose write end only KOReader holds:
when KOReader exits, however it exits, the kernel closes that end and the daemon's blocking read
returns. The write end is close-on-exec, so no program KOReader runs inherits it.

Stopping sends SIGTERM and waits at most `STOP_WAIT` seconds (in small sleeps), so a stop never
freezes KOReader noticeably; a daemon still finishing a book ends by itself moments later.
One KOReader process = one daemon: the state lives in this module, not in plugin instances.
]]

local ffi = require("ffi")
local UnixStream = require("kksync/unix_stream")

local DaemonProcess = {
    LAUNCHER = "/mnt/onboard/.adds/kksync/bin/kksync",
    SOCKET = "/tmp/kksync-daemon.sock",
    PID_FILE = "/tmp/kksync-daemon.pid",
    STOP_WAIT = 0.1,
    STARTUP_LIMIT = 180, -- seconds a first start may take (Python on a slow Kobo) before "not running"
    STOP_STEP = 0.01,
    SIGTERM = 15,
    F_SETFD = 2,
    FD_CLOEXEC = 1,
}
DaemonProcess.__index = DaemonProcess

local declared = false
local function declare()
    if declared then
        return
    end
    UnixStream.available() -- declares kksync_fcntl, kksync_close, kksync_poll
    pcall(ffi.cdef, [[
        int kksync_pipe(int fds[2]) __asm__("pipe");
        int kksync_kill(int pid, int sig) __asm__("kill");
        int kksync_getpid(void) __asm__("getpid");
    ]])
    declared = true
end

--- Quotes one shell word.
local function quoted(word)
    return "'" .. tostring(word):gsub("'", "'\\''") .. "'"
end

--- @tparam table opts `device_root`, optional `launcher`, `socket`, `pid_file`, `log_file`,
--   `file_exists(path)`, `execute(command)` (os.execute), `logger`
function DaemonProcess.new(opts)
    local device_root = opts.device_root or "/mnt/onboard"
    return setmetatable({
        device_root = device_root,
        launcher = opts.launcher or DaemonProcess.LAUNCHER,
        socket = opts.socket or DaemonProcess.SOCKET,
        pid_file = opts.pid_file or DaemonProcess.PID_FILE,
        log_file = opts.log_file or (device_root .. "/.adds/kksync/daemon.log"),
        file_exists = opts.file_exists,
        execute = opts.execute or os.execute,
        logger = opts.logger,
        write_fd = nil,
        launched = false,
    }, DaemonProcess)
end

function DaemonProcess:_log(level, ...)
    if self.logger then
        self.logger[level]("kksync:", ...)
    end
end

--- Whether this device has the bundle (the launcher exists).
function DaemonProcess:installed()
    return self.file_exists(self.launcher)
end

--- The running daemon's pid from its pid file, when that process is alive; else nil.
function DaemonProcess:pid()
    local file = io.open(self.pid_file, "r")
    if not file then
        return nil
    end
    local pid = tonumber((file:read("*l") or ""):match("^%s*(%d+)"))
    file:close()
    declare()
    if pid and pid > 1 and ffi.C.kksync_kill(pid, 0) == 0 then
        return pid
    end
    return nil
end

--- The shell command that starts the daemon in the background with `parent_fd` as its lifeline.
-- `previous_pid`: a daemon still finishing (KOReader was just restarted and stopped it); the
-- background shell waits for it to exit (at most ~10 s) so the new one does not find the device taken.
-- `open_book`: the book KOReader has open (a cold start into a book): the daemon's first sync
-- must leave it alone.
function DaemonProcess:command(parent_fd, previous_pid, open_book)
    local words = {
        quoted(self.launcher), "daemon",
        "--device", quoted(self.device_root),
        "--socket", quoted(self.socket),
        "--pid-file", quoted(self.pid_file),
        "--log-file", quoted(self.log_file),
        "--parent-fd", tostring(parent_fd),
    }
    if open_book then
        words[#words + 1] = "--open-book"
        words[#words + 1] = quoted(open_book)
    end
    -- Early failures (before Python has opened its log) land in the same file.
    local run = "exec " .. table.concat(words, " ") .. " </dev/null >>" .. quoted(self.log_file) .. " 2>&1"
    if previous_pid then
        -- (a BusyBox built without fractional sleep falls back to whole seconds)
        run = string.format("n=0; while kill -0 %d 2>/dev/null && [ $n -lt 50 ]; do "
            .. "sleep 0.2 2>/dev/null || sleep 1; n=$((n+1)); done; %s", previous_pid, run)
    end
    return "( " .. run .. " ) &"
end

--- Starts the daemon unless this KOReader did already or the bundle is missing; true when launched.
-- A daemon found running at KOReader start is one the previous KOReader run stopped on its way out
-- (Restart): it is finishing, so the new one is started behind it.
function DaemonProcess:start(open_book)
    if self.launched then
        return false
    end
    local previous_pid = self:pid()
    if not self:installed() then
        self:_log("info", "no bundled daemon at", self.launcher)
        return false
    end
    declare()
    local fds = ffi.new("int[2]")
    if ffi.C.kksync_pipe(fds) ~= 0 then
        self:_log("warn", "cannot create the daemon's lifeline pipe; not starting it")
        return false
    end
    local read_fd, write_fd = fds[0], fds[1]
    ffi.C.kksync_fcntl(write_fd, DaemonProcess.F_SETFD, ffi.new("int", DaemonProcess.FD_CLOEXEC))
    local command = self:command(read_fd, previous_pid, open_book)
    self:_log("info", "starting the daemon:", command)
    local ok = self.execute(command)
    ffi.C.kksync_close(read_fd) -- only the daemon keeps the read end
    -- Lua 5.1 returns the status number; with 5.2 compatibility `true`, or nil/false on failure.
    if ok == nil or ok == false or (type(ok) == "number" and ok ~= 0) then
        ffi.C.kksync_close(write_fd)
        self:_log("warn", "the shell could not start", self.launcher)
        return false
    end
    self.write_fd = write_fd
    self.launched = true
    self.launched_at = os.time()
    return true
end

--- Drops KOReader's end of the lifeline: the daemon stops by itself (as when KOReader exits).
function DaemonProcess:releaseLifeline()
    if self.write_fd then
        ffi.C.kksync_close(self.write_fd)
        self.write_fd = nil
    end
end

--- Asks the daemon to stop (SIGTERM) and waits at most STOP_WAIT seconds; true once it is gone.
function DaemonProcess:stop()
    local pid = self:pid()
    self.launched = false
    if not pid then
        self:releaseLifeline()
        return true
    end
    ffi.C.kksync_kill(pid, DaemonProcess.SIGTERM)
    self:releaseLifeline()
    local waited = 0
    while waited < DaemonProcess.STOP_WAIT do
        if ffi.C.kksync_kill(pid, 0) ~= 0 then
            return true
        end
        ffi.C.kksync_poll(nil, 0, math.floor(DaemonProcess.STOP_STEP * 1000))
        waited = waited + DaemonProcess.STOP_STEP
    end
    self:_log("info", "the daemon (pid", pid, ") is still finishing; it stops by itself")
    return ffi.C.kksync_kill(pid, 0) ~= 0
end

--- True while the daemon this plugin launched has not written its pid file yet.
function DaemonProcess:starting()
    return self.launched and os.time() - self.launched_at < DaemonProcess.STARTUP_LIMIT and self:pid() == nil
end

return DaemonProcess
