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

--- Loads the library and shows it; returns false (after telling why) when nothing can be read.
function LibraryView:show()
    local books, source, why = self.library:load()
    if not books then
        self.UIManager:show(self.InfoMessage:new{ text = why })
        return false
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
        close_callback = function()
            -- Some KOReader versions leave closing the menu to this callback.
            if view.menu then
                view.UIManager:close(view.menu)
            end
            view.menu = nil
        end,
    }
    self.UIManager:show(self.menu)
    if source == "database" then
        self.UIManager:show(self.InfoMessage:new{
            text = why .. "\n" .. self._("Showing the library from the Kobo database; sync is unavailable."),
            timeout = 4,
        })
    elseif self.on_opened then
        self.on_opened()
    end
    return true
end

return LibraryView
