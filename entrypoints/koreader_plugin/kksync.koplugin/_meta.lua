-- No `name`: KOReader names a plugin after its folder (kksync.koplugin) and warns about `name` here.
local _ = require("gettext")
return {
    fullname = _("Kobo Library (kksync)"),
    description = _([[Lists the books of the Kobo's own library (including extension-less books from ]]
        .. [[Komga and Calibre-Web), opens them in KOReader and keeps reading progress in sync with ]]
        .. [[Nickel through the kksync daemon.]]),
}
