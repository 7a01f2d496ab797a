-- Stand-ins for KOReader's UI modules: they record what the plugin shows instead of drawing it.
local M = {}

-- UIManager (frontend/ui/uimanager.lua): one thread; tasks run from a time-ordered queue between
-- input events. `scheduleIn`/`nextTick` only queue; `quit` drops the queue and the window stack
-- (what happens to a nextTick pending at Exit); `close` sends FlushSettings and CloseWidget to the
-- widget every time it is called, even on a widget that is no longer shown.
-- Tests step the queue on the real clock: `wallclock()` and `sleep(seconds)` come from the harness;
-- a task due later is waited for (as KOReader waits for input until its next task), and each task's
-- own run time is recorded in `task_seconds`.
local UIManager = { shown = {}, closed = {}, close_counts = {}, task_queue = {}, task_seconds = {},
                    exit_code = nil, wallclock = os.clock, sleep = function() end }
function UIManager:show(widget) table.insert(self.shown, widget) end
function UIManager:close(widget)
    if not widget then return end
    if widget.handleEvent then
        widget:handleEvent({ name = "FlushSettings" })
        widget:handleEvent({ name = "CloseWidget" })
    end
    for i = #self.shown, 1, -1 do
        if self.shown[i] == widget then table.remove(self.shown, i) end
    end
    table.insert(self.closed, widget)
    self.close_counts[widget] = (self.close_counts[widget] or 0) + 1
end
function UIManager:scheduleIn(seconds, action, ...)
    assert(seconds >= 0, "Only positive seconds allowed")
    local args = { n = select("#", ...), ... }
    table.insert(self.task_queue, { time = self.wallclock() + seconds, action = action, args = args })
    table.sort(self.task_queue, function(a, b) return a.time < b.time end)
end
function UIManager:nextTick(action, ...) return self:scheduleIn(0, action, ...) end
function UIManager:unschedule(action)
    local removed = false
    for i = #self.task_queue, 1, -1 do
        if self.task_queue[i].action == action then
            table.remove(self.task_queue, i)
            removed = true
        end
    end
    return removed
end
function UIManager:forceRePaint() end
--- Runs the earliest task (waiting until it is due); false when the queue is empty.
function UIManager:step()
    local task = table.remove(self.task_queue, 1)
    if not task then return false end
    local early = task.time - self.wallclock()
    if early > 0 then self.sleep(early) end
    local started = self.wallclock()
    task.action(unpack(task.args, 1, task.args.n))
    table.insert(self.task_seconds, self.wallclock() - started)
    return true
end
--- Runs tasks until the queue is empty (at most `limit` of them).
function UIManager:runTicks(limit)
    limit = limit or 100000
    while limit > 0 and self:step() do limit = limit - 1 end
end
function UIManager:quit(exit_code)
    self.exit_code = exit_code or 0
    self.shown, self.task_queue = {}, {}
    return self.exit_code
end
function UIManager:reset()
    self.shown, self.closed, self.close_counts, self.task_queue, self.task_seconds = {}, {}, {}, {}, {}
    self.exit_code = nil
end
function UIManager:last(kind)
    for i = #self.shown, 1, -1 do
        if kind == nil or self.shown[i].kind == kind then return self.shown[i] end
    end
end
M.UIManager = UIManager

local function widget(kind)
    local class = { kind = kind }
    function class:new(fields)
        fields = fields or {}
        fields.kind = kind
        return setmetatable(fields, { __index = class })
    end
    return class
end

M.InfoMessage = widget("InfoMessage")
-- ImageViewer (frontend/ui/widget/imageviewer.lua) takes a file or a ready BlitBuffer in `image`.
M.ImageViewer = widget("ImageViewer")
M.ConfirmBox = widget("ConfirmBox")
-- Menu (frontend/ui/widget/menu.lua): its close button runs onClose → onCloseAllMenus, which closes
-- the menu itself and then calls close_callback.
M.Menu = widget("Menu")
function M.Menu:switchItemTable(title, items)
    self.title = title
    self.item_table = items
end
function M.Menu:onCloseAllMenus()
    UIManager:close(self)
    if self.close_callback then self.close_callback() end
    return true
end
function M.Menu:onClose() return self:onCloseAllMenus() end

-- RenderImage (frontend/ui/renderimage.lua): renderImageFile(filename, want_frames, w, h) reads the
-- file, picks a decoder by its first bytes (not its name) and returns a BlitBuffer, or nil when the
-- file cannot be opened or decoded. The stand-in "decodes" JPEG and PNG into a record of the file.
local RenderImage = { rendered = {} }
function RenderImage:renderImageFile(filename, want_frames, width, height)
    table.insert(self.rendered, filename)
    local file = io.open(filename, "rb")
    if not file then return nil end
    local data = file:read("*a")
    file:close()
    if data:sub(1, 2) ~= "\255\216" and data:sub(1, 4) ~= "\137PNG" then return nil end
    return { kind = "BlitBuffer", source = filename, size = #data, want_frames = want_frames,
             width = width, height = height }
end
M.RenderImage = RenderImage

local WidgetContainer = {}
WidgetContainer.__index = WidgetContainer
function WidgetContainer:extend(sub)
    sub = sub or {}
    sub.__index = sub
    return setmetatable(sub, self)
end
function WidgetContainer:new(o)
    o = o or {}
    setmetatable(o, self)
    if o.init then o:init() end
    return o
end
M.WidgetContainer = WidgetContainer

-- ReaderUI (frontend/apps/reader/readerui.lua). showReader asks the DocumentRegistry as the real one
-- does (hasProvider, then getProvider) and refuses a file without a provider ("… is not supported.").
-- An instance's onClose saves the sidecar, sends CloseDocument to its modules (the plugins), then
-- forgets the document; `log` records that order.
local ReaderUI = { opened = {}, log = {}, registry = nil }
ReaderUI.__index = ReaderUI
function ReaderUI:showReader(file, provider)
    if provider == nil and self.registry:hasProvider(file) then
        provider = self.registry:getProvider(file)
    end
    if provider and provider.provider then
        table.insert(self.opened, { file = file, provider = provider })
    else
        UIManager:show(M.InfoMessage:new{ text = "File '" .. file .. "' is not supported." })
    end
end
function ReaderUI.newInstance(file, modules)
    return setmetatable({ document = { file = file }, modules = modules or {} }, ReaderUI)
end
function ReaderUI:onClose()
    table.insert(ReaderUI.log, "flushed " .. self.document.file)
    for _i, module in ipairs(self.modules) do
        if module.onCloseDocument then module:onCloseDocument() end
    end
    self.document = nil
    table.insert(ReaderUI.log, "closed")
end
M.ReaderUI = ReaderUI

M.logger = { lines = {} }
for _, level in ipairs({ "dbg", "info", "warn", "err" }) do
    M.logger[level] = function(...)
        local parts = {}
        for i = 1, select("#", ...) do parts[#parts + 1] = tostring(select(i, ...)) end
        table.insert(M.logger.lines, level .. ": " .. table.concat(parts, " "))
    end
end

return M
