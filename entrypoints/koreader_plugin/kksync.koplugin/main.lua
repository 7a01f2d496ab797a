--[[--
kksync for KOReader: a Kobo Library browser and the KOReader end of kksync's sync.

All plugin modules are required here, at load time: KOReader puts the plugin folder on
`package.path` only while it loads `main.lua`.

Module map:
  kksync/sidecar_naming  where KOReader keeps sidecars of extension-less Nickel kepubs (patch)
  kksync/kepub_provider  opening those files with the EPUB engine (patch)
  kksync/rpc_client      JSON-RPC over the daemon's Unix socket
  kksync/unix_stream     that socket through LuaJIT's FFI (KOReader ships no socket.unix)
  kksync/startup         what must be patched before any book opens (also run by patches/2-kksync-kepub.lua)
  kksync/daemon_process  starting the bundled daemon at KOReader start, stopping it before KOReader quits
  kksync/daemon          finding the daemon (daemon.json) and user-facing failure messages
  kksync/nickel_db       the library read-only from KoboReader.sqlite when no daemon runs
  kksync/covers          where Nickel keeps each book's cover thumbnail
  kksync/device_paths    on-device paths (/mnt/onboard, /mnt/sd) mapped to this KOReader's view
  kksync/library         loading, filtering, sorting and labelling books
  kksync/library_view    the Kobo Library menu
  kksync/settings_menu   the eight sync settings, through the daemon
  kksync/sync_actions    sync triggers, the "Syncing…" notice and the questions
]]

local ConfirmBox = require("ui/widget/confirmbox")
local DataStorage = require("datastorage")
local DocSettings = require("docsettings")
local DocumentRegistry = require("document/documentregistry")
local InfoMessage = require("ui/widget/infomessage")
local Menu = require("ui/widget/menu")
local UIManager = require("ui/uimanager")
local WidgetContainer = require("ui/widget/container/widgetcontainer")
local json = require("json")
local lfs = require("libs/libkoreader-lfs")
local logger = require("logger")
local _ = require("gettext")

local Daemon = require("kksync/daemon")
local DaemonProcess = require("kksync/daemon_process")
local KepubProvider = require("kksync/kepub_provider")
local Library = require("kksync/library")
local LibraryView = require("kksync/library_view")
local NickelDb = require("kksync/nickel_db")
local SettingsMenu = require("kksync/settings_menu")
local SidecarNaming = require("kksync/sidecar_naming")
local Startup = require("kksync/startup")
local SyncActions = require("kksync/sync_actions")
local UnixStream = require("kksync/unix_stream")

-- KOReader's LuaSocket is built without `socket.unix`, so on a device the daemon's socket is
-- opened through the FFI; a LuaJIT that has `socket.unix` (a desktop build) may use that.
-- Without either, and without the SQLite binding, the plugin still browses (DB) and reads.
local has_unix, socket_unix = pcall(require, "socket.unix")
local unix = (has_unix and socket_unix) or (UnixStream.available() and UnixStream) or nil
local has_sqlite, SQ3 = pcall(require, "lua-ljsqlite3/init")

local SORT_SETTING = "kksync_library_sort"

local function readerSetting(key, default)
    if G_reader_settings then
        return G_reader_settings:readSetting(key, default)
    end
    return default
end

local function fileExists(path)
    return lfs.attributes(path, "mode") == "file"
end

local function documentPath(ui)
    return ui and ui.document and ui.document.file
end

local LAUNCHER_SETTING = "kksync_launcher"

-- One KOReader process: one daemon, whatever plugin instances (file manager, reader) come and go.
local session = { process = nil, sync = nil, stop_after_close = false, open_path = nil }

--- KOReader's own progress for a book, read from its sidecar (DB fallback only).
local function koreaderProgress(path)
    local sidecar = DocSettings.findSidecarFile and DocSettings:findSidecarFile(path)
    if not sidecar or not DocSettings.openSettingsFile then
        return nil
    end
    local settings = DocSettings.openSettingsFile(sidecar)
    local percent = settings:readSetting("percent_finished")
    if type(percent) ~= "number" then
        return nil
    end
    local summary = settings:readSetting("summary") or {}
    local status = ({ complete = "FINISHED", abandoned = "ABANDONED" })[summary.status] or "READING"
    return { percent = percent * 100, status = status, updated_at = nil }
end

local Kksync = WidgetContainer:extend{
    name = "kksync",
    is_doc_only = false,
    device_root = os.getenv("KKSYNC_DEVICE_ROOT") or "/mnt/onboard",
}

--- The daemon process of this KOReader run, for this device (created once).
local function daemonProcess(device_root)
    if not session.process then
        session.process = DaemonProcess.new{
            device_root = device_root,
            launcher = readerSetting(LAUNCHER_SETTING, DaemonProcess.LAUNCHER),
            file_exists = fileExists,
            logger = logger,
        }
    end
    return session.process
end

--- Stops the daemon (SIGTERM, a wait of at most ~0.1 s) before KOReader quits.
local function stopDaemon()
    session.stop_after_close = false
    if session.process then
        session.process:stop()
    end
end

--- KOReader quits through UIManager:quit on every path (Exit, Restart, USB storage, power-off):
-- stop the daemon there, after anything sent before (a closed book) is on its way.
local function installQuitHook()
    if UIManager.kksync_stock_quit then
        return
    end
    local stock_quit = UIManager.quit
    UIManager.kksync_stock_quit = stock_quit
    UIManager.quit = function(manager, ...)
        pcall(stopDaemon)
        return stock_quit(manager, ...)
    end
end

local function pack(...)
    return { n = select("#", ...), ... }
end

--- Syncs a closed book once ReaderUI.onClose has returned: the sidecar is saved by then, and the
-- request is sent at once, so it is not lost when KOReader quits right after (Exit, Restart),
-- which drops every task still queued in UIManager.
local function installCloseHook()
    local ReaderUI = require("apps/reader/readerui")
    if ReaderUI.kksync_stock_onClose then
        return
    end
    local stock_close = ReaderUI.onClose
    ReaderUI.kksync_stock_onClose = stock_close
    ReaderUI.onClose = function(reader, ...)
        local path = reader.document and reader.document.file
        local results = pack(stock_close(reader, ...))
        session.open_path = nil
        if path and session.sync then
            local ok, err = pcall(session.sync.readerClosed, session.sync, path)
            if not ok then logger.warn("kksync: reader.closed failed:", err) end
        end
        if session.stop_after_close then
            pcall(stopDaemon)
        end
        return unpack(results, 1, results.n)
    end
end

function Kksync:init()
    Startup.install{
        DocSettings = DocSettings,
        DataStorage = DataStorage,
        DocumentRegistry = DocumentRegistry,
        device_root = self.device_root,
    }
    local process = daemonProcess(self.device_root)
    self.process = process
    self.daemon = Daemon.new{
        device_root = self.device_root,
        json = json,
        unix = unix,
        schedule = function(seconds, fn) UIManager:scheduleIn(seconds, fn) end,
        starting = function() return process:starting() end,
    }
    local ui = { UIManager = UIManager, InfoMessage = InfoMessage, ConfirmBox = ConfirmBox, Menu = Menu }
    self.sync = SyncActions.new{ daemon = self.daemon, ui = ui, _ = _, logger = logger }
    session.sync = self.sync
    self.settings_menu = SettingsMenu.new{
        daemon = self.daemon,
        _ = _,
        notify = function(text) UIManager:show(InfoMessage:new{ text = text }) end,
    }
    self.library = Library.new{
        daemon = self.daemon,
        nickel_db = NickelDb.new{
            sqlite = has_sqlite and SQ3 or nil,
            file_exists = fileExists,
            device_root = self.device_root,
        },
        koreader_progress = koreaderProgress,
    }
    installQuitHook()
    installCloseHook()
    if self.ui and self.ui.menu then
        self.ui.menu:registerToMainMenu(self)
    end
    if process:start(documentPath(self.ui)) then
        self:_whenDaemonUp(function()
            self.settings_menu:refresh()
            -- A book opened while the daemon was starting: tell it now, before it writes that book.
            if session.open_path and session.sync then
                session.sync:readerOpened(session.open_path)
            end
        end)
    else
        self.settings_menu:refresh()
    end
end

Kksync.STARTUP_LOOK_SECONDS = 2

--- Runs `fn` once the daemon this plugin launched has announced itself (or gave up starting).
function Kksync:_whenDaemonUp(fn)
    UIManager:scheduleIn(Kksync.STARTUP_LOOK_SECONDS, function()
        if self.process:starting() then
            return self:_whenDaemonUp(fn)
        end
        fn()
    end)
end

--- Opens a book with KOReader's reader, the EPUB engine for extension-less kepubs.
function Kksync:openBook(path)
    local ReaderUI = require("apps/reader/readerui")
    local provider = nil
    if SidecarNaming.isKepubPath(path) then
        provider = KepubProvider.epubProvider(DocumentRegistry)
    end
    ReaderUI:showReader(path, provider)
end

function Kksync:showLibrary()
    local view = LibraryView.new{
        library = self.library,
        ui = { UIManager = UIManager, Menu = Menu, InfoMessage = InfoMessage },
        _ = _,
        open_book = function(path) self:openBook(path) end,
        on_opened = function(on_synced) self.sync:onLibraryOpened(on_synced) end,
        sort_store = {
            read = function() return readerSetting(SORT_SETTING, Library.SORT_TITLE) end,
            save = function(order)
                if G_reader_settings then G_reader_settings:saveSetting(SORT_SETTING, order) end
            end,
        },
    }
    self.library_view = view
    return view:show()
end

function Kksync:showStatus()
    self.daemon:callAsync("status", nil, 10, function(status, message)
        local text
        if status then
            text = string.format(_("kksync %s is running for %s."), tostring(status.version or "?"),
                tostring(status.device or self.device_root))
        else
            text = message
        end
        UIManager:show(InfoMessage:new{ text = text })
    end)
end

function Kksync:addToMainMenu(menu_items)
    menu_items.kksync_library = {
        text = _("Kobo Library"),
        sorting_hint = "main",
        callback = function() self:showLibrary() end,
    }
    menu_items.kksync = {
        text = _("Kobo sync (kksync)"),
        sorting_hint = "tools",
        sub_item_table = {
            { text = _("Kobo Library"), callback = function() self:showLibrary() end },
            { text = _("Sync now"), callback = function() self.sync:syncNow() end },
            {
                text = _("Settings"),
                sub_item_table_func = function() return self.settings_menu:items() end,
            },
            { text = _("Daemon status"), keep_menu_open = true, callback = function() self:showStatus() end },
        },
    }
end

function Kksync:onReaderReady()
    local path = documentPath(self.ui)
    if path then
        session.open_path = path
        -- After the reader is drawn: opening a book never waits on the daemon.
        UIManager:nextTick(function() self.sync:readerOpened(path) end)
    end
end

-- Power-off and reboot announce themselves before the reader closes: stop once the closed book
-- is sent (or now, when no book is open). Exit, Restart and USB storage end in UIManager:quit.
function Kksync:onPowerOff()
    if documentPath(self.ui) then
        session.stop_after_close = true
    else
        stopDaemon()
    end
end
Kksync.onReboot = Kksync.onPowerOff

return Kksync
