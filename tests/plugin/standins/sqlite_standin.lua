-- The subset of lua-ljsqlite3 the plugin uses (open "ro", prepare, bind, step, close), backed by
-- Python's sqlite3 opened read-only. `bridge` holds the Python functions.
local bridge = ...
local Stmt = {}
Stmt.__index = Stmt
function Stmt:bind(...) bridge.bind(self.id, ...) return self end
function Stmt:step() return bridge.step(self.id) end
function Stmt:close() bridge.close_stmt(self.id) end

local Conn = {}
Conn.__index = Conn
function Conn:prepare(sql) return setmetatable({ id = bridge.prepare(self.id, sql) }, Stmt) end
function Conn:close() bridge.close(self.id) end

return {
    open = function(path, mode)
        return setmetatable({ id = bridge.open(path, mode or "rwc") }, Conn)
    end,
}
