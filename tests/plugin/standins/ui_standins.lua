-- Stand-ins for KOReader's UI modules: they record what the plugin shows instead of drawing it.
local M = {}

local UIManager = { shown = {}, closed = {}, ticks = {} }
function UIManager:show(widget) table.insert(self.shown, widget) end
function UIManager:close(widget)
    for i = #self.shown, 1, -1 do
        if self.shown[i] == widget then table.remove(self.shown, i) end
    end
    table.insert(self.closed, widget)
end
function UIManager:nextTick(fn) table.insert(self.ticks, fn) end
function UIManager:forceRePaint() end
function UIManager:runTicks()
    while #self.ticks > 0 do table.remove(self.ticks, 1)() end
end
function UIManager:reset() self.shown, self.closed, self.ticks = {}, {}, {} end
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
M.Menu = widget("Menu")
function M.Menu:switchItemTable(title, items)
    self.title = title
    self.item_table = items
end

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

local ReaderUI = { opened = {} }
function ReaderUI:showReader(file, provider) table.insert(self.opened, { file = file, provider = provider }) end
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
