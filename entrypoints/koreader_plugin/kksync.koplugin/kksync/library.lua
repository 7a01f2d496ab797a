--[[--
The Kobo library as the reader sees it: from the daemon when one answers, else from Nickel's
database directly, filtered to books KOReader can open, sorted and labelled for the menu.
]]

local Library = {}
Library.__index = Library

Library.SORT_TITLE = "title"
Library.SORT_RECENT = "recent"

--- @tparam table opts `daemon` (kksync/daemon), `nickel_db` (kksync/nickel_db),
--   optional `koreader_progress(path)` returning KOReader's own {percent, status} for the DB fallback,
--   optional `covers` (kksync/covers; default: the database's, which knows the device's folders)
function Library.new(opts)
    return setmetatable({
        daemon = opts.daemon,
        nickel_db = opts.nickel_db,
        koreader_progress = opts.koreader_progress,
        covers = opts.covers or (opts.nickel_db and opts.nickel_db.covers),
    }, Library)
end

local function readableOnly(books)
    local readable = {}
    for _, book in ipairs(books) do
        if book.readable and book.path then
            readable[#readable + 1] = book
        end
    end
    return readable
end

Library.LIST_TIMEOUT = 60

--- The readable books from Nickel's database (with KOReader's own progress), or `nil, message`.
function Library:fromDatabase()
    local books, db_message = self.nickel_db:books()
    if not books then
        return nil, db_message
    end
    books = readableOnly(books)
    if self.koreader_progress then
        for _, book in ipairs(books) do
            book.koreader = book.koreader or self.koreader_progress(book.path)
        end
    end
    return books
end

--- Loads the readable books in the background; `on_loaded(books, source, why)` runs later.
-- `source` is "daemon", "starting" (the daemon the plugin launched is not up yet: the database's
-- view meanwhile) or "database" (no daemon: `why` says why). `books` is nil when neither source
-- works (`why` then holds both reasons).
function Library:loadAsync(on_loaded)
    self.daemon:callAsync("library.list", nil, Library.LIST_TIMEOUT, function(result, daemon_message)
        if result and type(result.books) == "table" then
            local books = readableOnly(result.books)
            if self.covers then
                -- The daemon speaks on-device paths; an emulator (KKSYNC_DEVICE_ROOT) opens them elsewhere.
                for _, book in ipairs(books) do
                    book.path = self.covers:localPath(book.path)
                end
            end
            return on_loaded(books, "daemon", nil)
        end
        daemon_message = daemon_message or "The kksync daemon sent no book list."
        local source = self.daemon.starting() and "starting" or "database"
        local books, db_message = self:fromDatabase()
        if not books then
            return on_loaded(nil, nil, daemon_message .. "\n" .. db_message)
        end
        on_loaded(books, source, daemon_message)
    end)
end

--- The local file of the book's Nickel cover thumbnail, or nil when there is none to show.
-- Both sources end up at the same file: the daemon's on-device `cover` path mapped to this
-- device root, or (database fallback) the thumbnail found from the book's ImageId.
function Library:coverFile(book)
    if not self.covers then
        return nil
    end
    return self.covers:coverFile(book)
end

local function titleKey(book)
    return (book.title or book.book_id or ""):lower()
end

--- Timestamps arrive as `2026-11-20T14:30:00Z`, Nickel's raw `2026-11-20 14:30:00.000+00:00`
-- or with fractions; the first 19 characters with a `T` compare correctly as strings.
local function timeKey(stamp)
    if type(stamp) ~= "string" or #stamp < 10 then
        return ""
    end
    return (stamp:sub(1, 19):gsub(" ", "T"))
end

--- When the book was last read on either side ("" when never).
function Library.lastRead(book)
    local kobo = book.kobo and timeKey(book.kobo.updated_at) or ""
    local koreader = book.koreader and timeKey(book.koreader.updated_at) or ""
    return kobo > koreader and kobo or koreader
end

--- Sorts in place: by title (case-insensitive), or most recently read first then by title.
function Library.sort(books, order)
    table.sort(books, function(a, b)
        if order == Library.SORT_RECENT then
            local ra, rb = Library.lastRead(a), Library.lastRead(b)
            if ra ~= rb then
                return ra > rb
            end
        end
        local ta, tb = titleKey(a), titleKey(b)
        if ta ~= tb then
            return ta < tb
        end
        return (a.book_id or "") < (b.book_id or "")
    end)
    return books
end

local function percentText(state)
    if not state or state.percent == nil then
        return nil
    end
    if state.status == "FINISHED" or state.status == "complete" then
        return "✓"
    end
    return string.format("%d %%", math.floor(state.percent + 0.5))
end

--- The right-hand column: Kobo's progress, and KOReader's after a slash when it differs.
function Library.progressLabel(book)
    local kobo = percentText(book.kobo)
    local koreader = percentText(book.koreader)
    if book.kobo and book.kobo.status == "UNOPENED" and not koreader then
        return "new"
    end
    if kobo and koreader and kobo ~= koreader then
        return kobo .. " / " .. koreader
    end
    return koreader or kobo or ""
end

--- The main line: title, then author and series.
function Library.entryText(book)
    local parts = { book.title or book.book_id }
    if book.author then
        parts[#parts + 1] = " — " .. book.author
    end
    if book.series then
        local series = book.series
        if book.series_number then
            series = series .. " #" .. book.series_number
        end
        parts[#parts + 1] = " (" .. series .. ")"
    end
    return table.concat(parts)
end

--- A few lines describing a book, for the long-press details box.
function Library.details(book)
    local lines = { Library.entryText(book) }
    local function progress(name, state)
        if state and state.percent then
            lines[#lines + 1] = string.format("%s: %.1f %% (%s)%s", name, state.percent, state.status or "?",
                state.updated_at and (", " .. state.updated_at) or "")
        else
            lines[#lines + 1] = name .. ": —"
        end
    end
    progress("Kobo", book.kobo)
    progress("KOReader", book.koreader)
    lines[#lines + 1] = "File: " .. tostring(book.path)
    if book.cover then
        lines[#lines + 1] = "Cover: " .. book.cover
    end
    return table.concat(lines, "\n")
end

return Library
