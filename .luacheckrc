-- luacheck settings for the KOReader plugin (entrypoints/koreader_plugin/); run `luacheck .`
std = "luajit"
globals = { "G_reader_settings" }
max_line_length = 120
-- `_` is gettext in several modules, so unused loop indexes are named `_i` instead.
-- Methods keep `self` even when they do not use it (the colon call syntax needs it).
ignore = { "213/_.*", "212/self" }
exclude_files = { ".venv/**", "mutants/**" }
