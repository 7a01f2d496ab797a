--[[--
What happens when a sync is triggered: the RPC call, the "Syncing…" notice, the summary and the
questions kksync asks back (one ConfirmBox at a time, each answered with `sync.answer`).

Triggers (docs/plugin.md): first Kobo Library open per KOReader start, "Sync now", book opened,
book closed. The daemon applies the policy matrix; the plugin only gates on the master switch
and automatic-sync setting for the library-open trigger, and never bothers the reader when the
daemon is simply not running during an open or close.
]]

local SyncActions = {}
SyncActions.__index = SyncActions

SyncActions.RUN_TIMEOUT = 10
SyncActions.READER_TIMEOUT = 3
SyncActions.ANSWER_TIMEOUT = 5

-- One KOReader start = one session: plugin instances come and go with each view, this table stays.
SyncActions.session = { library_synced = false }

--- @tparam table opts `daemon`, `ui` = {UIManager, InfoMessage, ConfirmBox}, `_` (gettext), `logger`
function SyncActions.new(opts)
    return setmetatable({
        daemon = opts.daemon,
        UIManager = opts.ui.UIManager,
        InfoMessage = opts.ui.InfoMessage,
        ConfirmBox = opts.ui.ConfirmBox,
        _ = opts._ or function(s) return s end,
        logger = opts.logger,
    }, SyncActions)
end

function SyncActions:notify(text, timeout)
    self.UIManager:show(self.InfoMessage:new{ text = text, timeout = timeout })
end

local function settingsOf(result)
    if type(result) ~= "table" then
        return nil
    end
    return type(result.settings) == "table" and result.settings or result
end

--- The daemon's settings, or nil (daemon down).
function SyncActions:settings()
    local result = self.daemon:call("settings.get")
    return settingsOf(result)
end

--- Text for the end of a sync: the summary's counters, and how many questions follow.
function SyncActions.summaryText(result, _)
    _ = _ or function(s) return s end
    local lines = { _("Sync with Kobo finished.") }
    local summary = type(result.summary) == "table" and result.summary or {}
    local keys = {}
    for key, value in pairs(summary) do
        if type(value) == "number" then
            keys[#keys + 1] = key
        end
    end
    table.sort(keys)
    for _i, key in ipairs(keys) do
        lines[#lines + 1] = string.format("%s: %d", (key:gsub("_", " ")), summary[key])
    end
    local questions = type(result.questions) == "table" and #result.questions or 0
    if questions > 0 then
        lines[#lines + 1] = string.format(_("%d book(s) need your decision."), questions)
    end
    return table.concat(lines, "\n")
end

--- Asks each question in turn; `on_done` runs after the last answer.
function SyncActions:askAll(questions, on_done)
    local index = 0
    local function nextQuestion()
        index = index + 1
        local question = questions[index]
        if not question then
            if on_done then on_done() end
            return
        end
        local function answer(accept)
            local _, message = self.daemon:call("sync.answer", { token = question.token, accept = accept },
                SyncActions.ANSWER_TIMEOUT)
            if message then
                self:notify(message, 4)
            end
            nextQuestion()
        end
        local pull = question.direction == "FROM_KOBO"
        self.UIManager:show(self.ConfirmBox:new{
            text = question.text or question.title or question.book_id,
            ok_text = pull and self._("Use Kobo's") or self._("Send to Kobo"),
            cancel_text = self._("Keep as is"),
            dismissable = false,
            ok_callback = function() answer(true) end,
            cancel_callback = function() answer(false) end,
        })
    end
    nextQuestion()
end

--- Runs `sync.run` (all books, or the given ids) with a notice, then the summary and questions.
-- @bool quiet no summary when nothing needs a decision (automatic syncs)
function SyncActions:run(book_ids, quiet)
    local working = self.InfoMessage:new{ text = self._("Syncing with Kobo…") }
    self.UIManager:show(working)
    if self.UIManager.forceRePaint then
        self.UIManager:forceRePaint()
    end
    local params = book_ids and { books = book_ids } or nil
    local result, message = self.daemon:call("sync.run", params, SyncActions.RUN_TIMEOUT)
    self.UIManager:close(working)
    if not result then
        self:notify(message)
        return false
    end
    local questions = type(result.questions) == "table" and result.questions or {}
    if not quiet or #questions > 0 then
        self:notify(SyncActions.summaryText(result, self._), 3)
    end
    self:askAll(questions)
    return true
end

--- "Sync now" from the menu: always reports, tells the reader when sync is switched off.
function SyncActions:syncNow()
    local settings = self:settings()
    if settings and settings.sync_reading_state == false then
        self:notify(self._("Sync with Kobo is switched off (Settings → Sync reading state)."))
        return false
    end
    return self:run(nil, false)
end

--- The first time the Kobo Library is opened in this KOReader session: sync all, if allowed.
function SyncActions:onLibraryOpened()
    if SyncActions.session.library_synced then
        return false
    end
    local settings = self:settings()
    if not settings then
        return false -- no daemon: the library view already says so
    end
    SyncActions.session.library_synced = true
    if settings.sync_reading_state == false or settings.enable_auto_sync == false then
        return false
    end
    return self:run(nil, true)
end

function SyncActions:_readerEvent(method, path)
    local result, message = self.daemon:call(method, { path = path }, SyncActions.READER_TIMEOUT)
    if not result then
        if self.logger then
            self.logger.info("kksync:", method, "skipped:", message)
        end
        return nil
    end
    local questions = type(result.questions) == "table" and result.questions or {}
    self:askAll(questions)
    return result
end

--- A book was opened in KOReader: kksync will not write it while it is open.
function SyncActions:readerOpened(path)
    return self:_readerEvent("reader.opened", path)
end

--- A book was closed: kksync syncs it (per policy) and may ask a question.
function SyncActions:readerClosed(path)
    return self:_readerEvent("reader.closed", path)
end

return SyncActions
