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

-- Seconds to wait for each answer. Every call is asynchronous (the UI keeps running meanwhile),
-- so these only bound how long a notice may stay up for a daemon that hangs.
SyncActions.RUN_TIMEOUT = 300
SyncActions.READER_TIMEOUT = 60
SyncActions.ANSWER_TIMEOUT = 60
SyncActions.SETTINGS_TIMEOUT = 10

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

--- The daemon's settings, later: `on_settings(settings)` (nil when the daemon is down, with why).
function SyncActions:withSettings(on_settings)
    self.daemon:callAsync("settings.get", nil, SyncActions.SETTINGS_TIMEOUT, function(result, message)
        on_settings(settingsOf(result), message)
    end)
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

--- Asks each question in turn (one ConfirmBox at a time); `on_done` runs after the last answer.
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
            self.daemon:callAsync("sync.answer", { token = question.token, accept = accept },
                SyncActions.ANSWER_TIMEOUT, function(_result, message)
                    if message then
                        self:notify(message, 4)
                    end
                    nextQuestion()
                end)
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

--- Runs `sync.run` (all books, or the given ids) behind a "Syncing…" notice that stays up while
-- the daemon works (KOReader stays usable), then the summary and the questions.
-- @bool quiet no summary when nothing needs a decision (automatic syncs)
-- @tparam ?function on_done `on_done(ok)` once the run (not the questions) has ended
function SyncActions:run(book_ids, quiet, on_done)
    local working = self.InfoMessage:new{ text = self._("Syncing with Kobo…") }
    self.UIManager:show(working)
    local params = book_ids and { books = book_ids } or nil
    self.daemon:callAsync("sync.run", params, SyncActions.RUN_TIMEOUT, function(result, message)
        self.UIManager:close(working)
        if not result then
            self:notify(message)
            if on_done then on_done(false) end
            return
        end
        local questions = type(result.questions) == "table" and result.questions or {}
        if not quiet or #questions > 0 then
            self:notify(SyncActions.summaryText(result, self._), 3)
        end
        if on_done then on_done(true) end
        self:askAll(questions)
    end)
end

--- "Sync now" from the menu: always reports, tells the reader when sync is switched off.
function SyncActions:syncNow(on_done)
    self:withSettings(function(settings, message)
        if not settings then
            self:notify(message)
            if on_done then on_done(false) end
        elseif settings.sync_reading_state == false then
            self:notify(self._("Sync with Kobo is switched off (Settings → Sync reading state)."))
            if on_done then on_done(false) end
        else
            self:run(nil, false, on_done)
        end
    end)
end

--- The first time the Kobo Library is opened in this KOReader session: sync all, if allowed.
-- `on_synced()` runs after a sync that ran, so the list can show its result.
function SyncActions:onLibraryOpened(on_synced)
    if SyncActions.session.library_synced then
        return false
    end
    SyncActions.session.library_synced = true
    self:withSettings(function(settings)
        if not settings then
            SyncActions.session.library_synced = false -- no daemon yet: try again next time
            return
        end
        if settings.sync_reading_state == false or settings.enable_auto_sync == false then
            return
        end
        self:run(nil, true, function(ok)
            if ok and on_synced then on_synced() end
        end)
    end)
    return true
end

function SyncActions:_readerEvent(method, path)
    return self.daemon:callAsync(method, { path = path }, SyncActions.READER_TIMEOUT, function(result, message)
        if not result then
            if self.logger then
                self.logger.info("kksync:", method, "skipped:", message)
            end
            return
        end
        local questions = type(result.questions) == "table" and result.questions or {}
        self:askAll(questions)
    end)
end

--- A book was opened in KOReader: kksync will not write it while it is open.
function SyncActions:readerOpened(path)
    return self:_readerEvent("reader.opened", path)
end

--- A book was closed (its sidecar already saved): kksync syncs it (per policy) and may ask a
-- question. The request is sent before this returns, so it reaches the daemon even when
-- KOReader is quitting; the answer (and any question) is read from later UI tasks.
function SyncActions:readerClosed(path)
    return self:_readerEvent("reader.closed", path)
end

return SyncActions
