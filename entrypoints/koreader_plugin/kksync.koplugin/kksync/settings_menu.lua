--[[--
The settings submenu: the eight settings people know from the Kobo plugin world, read and
written through the daemon (`settings.get` / `settings.set`), so the CLI, the daemon and the
plugin share one config file. Without a daemon the entries stay visible but greyed out, with a
first line that says why.

Building the menu never calls the daemon: KOReader's menu search runs every
`sub_item_table_func`, and a menu must open at once. The values shown are the ones last fetched
(asynchronously, when the plugin starts and whenever the daemon comes up); a change is shown at
once and written in the background, and undone with a message if the daemon refuses it.
]]

local SettingsMenu = {}
SettingsMenu.__index = SettingsMenu

SettingsMenu.SWITCHES = {
    { key = "sync_reading_state", text = "Sync reading state with Kobo" },
    { key = "enable_auto_sync", text = "Sync automatically (library open, book close)" },
    { key = "enable_sync_from_kobo", text = "Enable sync from Kobo to KOReader" },
    { key = "enable_sync_to_kobo", text = "Enable sync from KOReader to Kobo" },
}

SettingsMenu.POLICIES = {
    { key = "sync_from_kobo_newer", text = "Sync from Kobo (newer)" },
    { key = "sync_from_kobo_older", text = "Sync from Kobo (older)" },
    { key = "sync_to_kobo_newer", text = "Sync to Kobo (newer)" },
    { key = "sync_to_kobo_older", text = "Sync to Kobo (older)" },
}

SettingsMenu.CHOICES = {
    { value = "prompt", text = "Ask (prompt)" },
    { value = "silent", text = "Always (silent)" },
    { value = "never", text = "Never" },
}

--- @tparam table opts `daemon`, `notify(text)`, optional `_` (gettext)
function SettingsMenu.new(opts)
    return setmetatable({
        daemon = opts.daemon,
        notify = opts.notify,
        _ = opts._ or function(s) return s end,
        settings = nil,
        unavailable = nil,
    }, SettingsMenu)
end

SettingsMenu.TIMEOUT = 10

--- Fetches the current settings in the background; `on_done(available)` afterwards.
function SettingsMenu:refresh(on_done)
    self.daemon:callAsync("settings.get", nil, SettingsMenu.TIMEOUT, function(result, message)
        if result then
            self.settings = type(result.settings) == "table" and result.settings or result
            self.unavailable = nil
        else
            self.settings = nil
            self.unavailable = message
        end
        if on_done then on_done(self.settings ~= nil) end
    end)
end

function SettingsMenu:available()
    return self.settings ~= nil
end

--- The current policy value, lower-cased ("prompt", "silent", "never"), or nil.
function SettingsMenu:policy(key)
    local value = self.settings and self.settings[key]
    return type(value) == "string" and value:lower() or nil
end

--- Shows the new value at once and writes it in the background; `on_done()` after the answer.
function SettingsMenu:set(key, value, on_done)
    local previous = self.settings[key]
    self.settings[key] = value
    self.daemon:callAsync("settings.set", { [key] = value }, SettingsMenu.TIMEOUT, function(result, message)
        if not result then
            if self.settings then self.settings[key] = previous end
            self.notify(message)
        elseif type(result.settings) == "table" then
            self.settings = result.settings
        end
        if on_done then on_done() end
    end)
end

local function refreshMenu(touchmenu)
    if touchmenu and touchmenu.updateItems then
        touchmenu:updateItems()
    end
end

function SettingsMenu:_statusItem()
    local _ = self._
    return {
        text_func = function()
            if self:available() then
                return _("Settings are shared with the kksync daemon")
            end
            return _("Settings unavailable: kksync daemon not reachable")
        end,
        keep_menu_open = true,
        separator = true,
        callback = function()
            if self:available() then
                self.notify(_("These settings live in .adds/kksync/config.toml, the same file `kksync config` edits."))
            else
                self.notify(self.unavailable or _("The kksync daemon is not running."))
            end
        end,
    }
end

function SettingsMenu:_switchItem(switch)
    return {
        text = self._(switch.text),
        enabled_func = function() return self:available() end,
        checked_func = function() return self.settings ~= nil and self.settings[switch.key] == true end,
        keep_menu_open = true,
        callback = function(touchmenu)
            self:set(switch.key, self.settings[switch.key] ~= true, function() refreshMenu(touchmenu) end)
            refreshMenu(touchmenu)
        end,
    }
end

function SettingsMenu:_choiceLabel(value)
    for _i, choice in ipairs(SettingsMenu.CHOICES) do
        if choice.value == value then
            return self._(choice.text)
        end
    end
    return value or "?"
end

function SettingsMenu:_policyItem(policy)
    local choices = {}
    for _i, choice in ipairs(SettingsMenu.CHOICES) do
        choices[#choices + 1] = {
            text = self._(choice.text),
            radio = true,
            enabled_func = function() return self:available() end,
            checked_func = function() return self:policy(policy.key) == choice.value end,
            callback = function(touchmenu)
                self:set(policy.key, choice.value, function() refreshMenu(touchmenu) end)
                refreshMenu(touchmenu)
            end,
        }
    end
    return {
        text_func = function()
            return self._(policy.text) .. ": " .. self:_choiceLabel(self:policy(policy.key))
        end,
        enabled_func = function() return self:available() end,
        sub_item_table = choices,
    }
end

--- The submenu entries, from the values last fetched (no daemon call: see the top of this file).
function SettingsMenu:items()
    local items = { self:_statusItem() }
    for _i, switch in ipairs(SettingsMenu.SWITCHES) do
        items[#items + 1] = self:_switchItem(switch)
    end
    items[#items].separator = true
    for _i, policy in ipairs(SettingsMenu.POLICIES) do
        items[#items + 1] = self:_policyItem(policy)
    end
    return items
end

return SettingsMenu
