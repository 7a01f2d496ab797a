--[[--
The "Kobo Library" list: a full-screen KOReader Menu of every readable Nickel book, with a
first row that switches between "by title" and "recently read". Tap opens the book, long-press
shows both sides' progress and the file — over Nickel's cover thumbnail in KOReader's
ImageViewer when the book has one, else in a plain InfoMessage.

Nickel's thumbnails end in `.parsed`, which ImageWidget refuses to load by name (it checks the
extension), so the file is decoded with RenderImage (which sniffs the bytes: they are JPEGs)
and the viewer gets the ready BlitBuffer.
]]

local Library = require("kksync/library")

local LibraryView = {}
LibraryView.__index = LibraryView

--- @tparam table opts `library`, `ui` = {UIManager, Menu, InfoMessage, optional ImageViewer and
--   RenderImage (else required from KOReader when a cover is shown)}, `open_book(path)`,
--   optional `on_opened()` (first-open sync), `sort_store` = {read(), save(order)}, `_`
function LibraryView.new(opts)
    return setmetatable({
        library = opts.library,
        UIManager = opts.ui.UIManager,
        Menu = opts.ui.Menu,
        InfoMessage = opts.ui.InfoMessage,
        ImageViewer = opts.ui.ImageViewer,
        RenderImage = opts.ui.RenderImage,
        open_book = opts.open_book,
        on_opened = opts.on_opened,
        sort_store = opts.sort_store,
        _ = opts._ or function(s) return s end,
        order = opts.sort_store and opts.sort_store.read() or Library.SORT_TITLE,
    }, LibraryView)
end

function LibraryView:title()
    local count = self.books and #self.books or 0
    local title = string.format(self._("Kobo Library (%d)"), count)
    if self.source == "database" then
        title = title .. " · " .. self._("offline")
    elseif self.source == "starting" then
        title = title .. " · " .. self._("starting…")
    end
    return title
end

function LibraryView:_sortItem()
    local text
    if self.order == Library.SORT_RECENT then
        text = self._("Sorted by recently read · tap for title")
    else
        text = self._("Sorted by title · tap for recently read")
    end
    return { text = text, kksync_toggle_sort = true, bold = true }
end

--- The Menu's item table for the loaded books in the current order.
function LibraryView:items()
    Library.sort(self.books, self.order)
    local items = { self:_sortItem() }
    for _i, book in ipairs(self.books) do
        items[#items + 1] = {
            text = Library.entryText(book),
            mandatory = Library.progressLabel(book),
            book = book,
        }
    end
    return items
end

function LibraryView:toggleSort()
    self.order = self.order == Library.SORT_RECENT and Library.SORT_TITLE or Library.SORT_RECENT
    if self.sort_store then
        self.sort_store.save(self.order)
    end
    if self.menu then
        self.menu:switchItemTable(self:title(), self:items())
    end
end

function LibraryView:select(item)
    if item.kksync_toggle_sort then
        self:toggleSort()
        return
    end
    if self.menu then
        self.UIManager:close(self.menu)
        self.menu = nil
    end
    self.open_book(item.book.path)
end

--- The cover as an ImageViewer with the details as its caption, or nil (after logging why)
-- when the file cannot be decoded; then the details still show as text.
function LibraryView:_coverViewer(book, path, details)
    local ok, viewer = pcall(function()
        local RenderImage = self.RenderImage or require("ui/renderimage")
        local ImageViewer = self.ImageViewer or require("ui/widget/imageviewer")
        local image = RenderImage:renderImageFile(path, false)
        if not image then
            return nil
        end
        return ImageViewer:new{
            image = image,
            image_disposable = true,
            with_title_bar = true,
            title_text = Library.entryText(book),
            caption = details,
            fullscreen = true,
        }
    end)
    if ok and viewer then
        return viewer
    end
    require("logger").warn("kksync: cannot show the cover", path, ok and "(not an image)" or viewer)
    return nil
end

function LibraryView:hold(item)
    local book = item.book
    if not book then
        return true
    end
    local details = Library.details(book)
    local cover = self.library:coverFile(book)
    local viewer = cover and self:_coverViewer(book, cover, details)
    if viewer then
        self.UIManager:show(viewer)
    else
        self.UIManager:show(self.InfoMessage:new{ text = details })
    end
    return true
end

LibraryView.RETRY_SECONDS = 2

--- Loads the library in the background and shows it (with a notice while the daemon answers).
function LibraryView:show()
    local loading = self.InfoMessage:new{ text = self._("Loading the Kobo Library…") }
    self.UIManager:show(loading)
    self.library:loadAsync(function(books, source, why)
        self.UIManager:close(loading)
        self:_present(books, source, why)
    end)
    return true
end

function LibraryView:_present(books, source, why)
    if not books then
        self.UIManager:show(self.InfoMessage:new{ text = why })
        return
    end
    self.books, self.source = books, source
    local view = self
    self.menu = self.Menu:new{
        title = self:title(),
        item_table = self:items(),
        covers_fullscreen = true,
        is_borderless = true,
        is_popout = false,
        onMenuSelect = function(_menu, item) view:select(item) return true end,
        onMenuHold = function(_menu, item) return view:hold(item) end,
        -- Menu closes itself (onClose → onCloseAllMenus) before calling this: only forget it here.
        close_callback = function() view.menu = nil end,
    }
    self.UIManager:show(self.menu)
    if source == "database" then
        self.UIManager:show(self.InfoMessage:new{
            text = why .. "\n" .. self._("Showing the library from the Kobo database; sync is unavailable."),
            timeout = 4,
        })
    elseif source == "starting" then
        self:_waitForDaemon()
    elseif self.on_opened then
        self.on_opened(function() self:reload() end)
    end
end

--- Re-reads the list into the open menu (after a sync, or once the daemon is up).
function LibraryView:reload(on_done)
    if not self.menu then
        return
    end
    self.library:loadAsync(function(books, source)
        if books and self.menu then
            self.books, self.source = books, source
            self.menu:switchItemTable(self:title(), self:items())
        end
        if on_done then on_done(source) end
    end)
end

--- While the daemon starts: look again every few seconds; once it answers, show its list and
-- run the first-open sync. Stops when the menu closes or the daemon did not come up.
function LibraryView:_waitForDaemon()
    self.UIManager:scheduleIn(LibraryView.RETRY_SECONDS, function()
        if not self.menu or self.source ~= "starting" then
            return
        end
        self:reload(function(source)
            if source == "starting" then
                self:_waitForDaemon()
            elseif source == "daemon" and self.on_opened then
                self.on_opened(function() self:reload() end)
            end
        end)
    end)
end

return LibraryView
