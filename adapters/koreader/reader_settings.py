"""KOReader's global ``settings.reader.lua``: only ``document_metadata_folder`` matters to kksync.

The setting decides where KOReader saves sidecars (doc/dir/hash). It is re-read whenever the file
changes, because the person can switch it in KOReader's menu between two syncs. Like KOReader's
``LuaSettings:open``, a broken file falls back to its ``.old`` backup and then to the default.
"""

from __future__ import annotations

import logging
from pathlib import Path

from adapters.koreader.locations import BACKUP_SUFFIX, MetadataMode
from adapters.koreader.lua_sandbox import LuaSandbox
from application.errors import SidecarError

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.reader.lua"
MODE_KEY = "document_metadata_folder"
_NEVER_READ = object()  # the stamp before the first look, equal to no real one


class ReaderSettings:
    """The metadata mode from ``<data>/settings.reader.lua``, cached until the file changes."""

    def __init__(self, data_dir: Path, sandbox: LuaSandbox) -> None:
        self.path = data_dir / SETTINGS_FILE
        self._sandbox = sandbox
        self._backup = self.path.with_name(self.path.name + BACKUP_SUFFIX)
        self._stamp: object = _NEVER_READ
        self._mode = MetadataMode.DOC

    def metadata_mode(self) -> MetadataMode:
        # Without the file, its ``.old`` backup is what counts; "neither exists" is a stamp too,
        # so an absent file is not searched for again on every call (one per book and run).
        stamp = _stamp(self.path) or ("backup", _stamp(self._backup))
        if stamp != self._stamp:
            self._mode = self._read_mode()
            self._stamp = stamp
        return self._mode

    def _read_mode(self) -> MetadataMode:
        for path in (self.path, self._backup):
            if not path.is_file():
                continue
            try:
                value = self._sandbox.load_file(path).get(MODE_KEY)
            except SidecarError as error:
                log.warning("ignoring KOReader settings: %s", error)
                continue
            try:
                return MetadataMode(value)
            except ValueError:
                return MetadataMode.DOC
        return MetadataMode.DOC


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
