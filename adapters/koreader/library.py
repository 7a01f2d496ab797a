"""``SidecarLibrary``: the ``KOReaderLibrary`` port over real sidecar files and ``history.lua``.

Reading picks the copy KOReader would load on open (newest candidate that parses to a non-empty
table, docs/reference/koreader.md §1.5). Unlike KOReader, kksync never deletes the empty or broken
candidates it skips; if every existing candidate is broken the book fails with ``SidecarError``.

Writing goes where KOReader saves next (§1.6) and changes only the keys a pull owns; every other
key is re-serialized byte for byte. Rules kksync adds on top of KOReader's:

- the target is never overwritten when it exists but cannot be parsed (KOReader would delete it
  and fall back to ``.old``; kksync leaves that decision to KOReader and reports the book);
- other candidates are never deleted. After the write the new file must be the one KOReader picks;
  if another copy still sorts first (an mtime in the future, e.g. from USB time skew), the new
  file's mtime is moved two seconds past it (two, because FAT stores mtimes in 2-second steps);
- an existing file's header line is kept as it is, a new file gets the one KOReader would write;
- ``cre_dom_version = 20240114`` goes into a new sidecar, and into an existing one that has
  neither it nor a ``last_xpointer`` when kksync adds a pointer (without it KOReader would read
  the pointer with its oldest DOM, §6.4). A sidecar with an old pointer and no version is an old
  book whose annotations use old-DOM pointers, so its version is left alone and the pull's
  pointer comes in the V1 form KOReader reads there (``KOReaderState.dom``, docs/positions.md).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import stat as stat_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from adapters.device import DeviceLayout
from adapters.koreader.history import ReadingHistory
from adapters.koreader.locations import (
    BookLocations,
    KOReaderPaths,
    MetadataMode,
    SidecarSpot,
    candidate_files,
    locate,
    read_order,
    sidecar_folders,
)
from adapters.koreader.lua_sandbox import LuaSandbox, shared_sandbox
from adapters.koreader.lua_values import LuaTable, LuaValue, copy_table
from adapters.koreader.lua_writer import render_settings_file
from adapters.koreader.partial_md5 import partial_md5
from adapters.koreader.reader_settings import ReaderSettings
from adapters.koreader.sidecar_store import remove_temp_files, replace_file
from application.errors import SidecarError
from application.records import COMPATIBLE_DOM_VERSION, KOReaderState, KOReaderWrite

log = logging.getLogger(__name__)

FAT_MTIME_STEP = 2
HASH_FOLDER = "hashdocsettings"
LEGACY_HISTORY_FOLDER = "history"
HEADER_PREFIX = b"-- "
MAX_HEADER_BYTES = 4096
ABSENT = b"\0absent\0"


@dataclass(frozen=True)
class LoadedSidecar:
    """The candidate KOReader would load, with its parsed table."""

    path: Path
    table: LuaTable
    mtime: datetime


class SidecarLibrary:
    """KOReader's sidecars and history for the books of one Kobo (or a desktop KOReader's data dir)."""

    def __init__(
        self,
        layout: DeviceLayout,
        koreader_dir: Path | None = None,
        *,
        sandbox: LuaSandbox | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.layout = layout
        self._paths = KOReaderPaths(layout, koreader_dir if koreader_dir is not None else layout.koreader_dir)
        self._sandbox = sandbox if sandbox is not None else shared_sandbox()
        self._settings = ReaderSettings(self._paths.data_dir, self._sandbox)
        self._history = ReadingHistory(self._paths.data_dir, self._sandbox)
        self._clock = clock
        self._digests: dict[tuple[Path, int, int], str | None] = {}

    @property
    def data_dir(self) -> Path:
        return self._paths.data_dir

    def metadata_mode(self) -> MetadataMode:
        """Where KOReader saves sidecars, from its ``document_metadata_folder`` setting."""
        return self._settings.metadata_mode()

    def read(self, document: Path) -> KOReaderState:
        """The state KOReader would load for this book; no sidecar gives ``KOReaderState(document)``."""
        locations = self._locate(document, self._hash_enabled())
        loaded = self._load(document, locations)
        if loaded is None:
            return KOReaderState(document)
        history_time = self._history.time_of(self._paths.history_path(document))
        return _state(document, loaded, history_time)

    def fingerprint(self, document: Path) -> str:
        """A digest of everything ``read(document)`` depends on, computed without parsing any Lua.

        It covers where KOReader looks (metadata mode, hash folder, the book's partial MD5 when
        hashes count), each existing candidate's size, mtime and *whole content* (sidecars
        are small; hashing them is what makes a same-size, same-mtime rewrite visible), and the
        book's ``history.lua`` time. Equal fingerprints mean ``read`` would return an equal state.
        """
        hash_enabled = self._hash_enabled()
        files = candidate_files(self._paths, document, self._digest(document) if hash_enabled else None)
        candidates = files.listed(
            hash_enabled=files.hash is not None,
            history_enabled=os.path.isdir(f"{self._paths.data_text}/{LEGACY_HISTORY_FOLDER}"),
        )
        digest = hashlib.blake2b(digest_size=20)
        digest.update(repr((str(document), files.koreader_path, hash_enabled)).encode())
        absent_folders: set[str] = set()
        for path, _ in candidates:
            folder = os.path.dirname(path)
            if folder in absent_folders:
                digest.update(ABSENT)
                continue
            part = _file_digest(path)
            if part is ABSENT and not os.path.isdir(folder):
                absent_folders.add(folder)  # a missing ``.sdr`` folder holds neither file nor ``.old``
            digest.update(part)
        history_time = self._history.time_of(self._paths.history_path(document, files.koreader_path))
        digest.update(repr(history_time).encode())
        return digest.hexdigest()

    def write(self, document: Path, change: KOReaderWrite) -> Path:
        """Write a pull into the sidecar KOReader reads next and return that file's path."""
        _check_percent(document, change.percent)

        def pull(table: LuaTable, creating: bool, doc_path: str) -> None:
            apply_pull(table, change, creating=creating, doc_path=doc_path)

        return self.rewrite(document, pull)

    def load(self, document: Path) -> LoadedSidecar | None:
        """The sidecar KOReader would load for this book, parsed; None when there is none."""
        return self._load(document, self._locate(document, self._hash_enabled()))

    def rewrite(self, document: Path, edit: Callable[[LuaTable, bool, str], None]) -> Path:
        """Let ``edit(table, creating, doc_path)`` change a copy of the table, then write it safely.

        Used by every writer of sidecar keys (pulls, annotations): one place decides the target,
        refuses unreadable files, keeps the header and every other key byte for byte.
        """
        locations = self._locate(document, self._hash_enabled())
        loaded = self._load(document, locations)
        target = locations.target(
            self._settings.metadata_mode(), doc_folder_writable=_folder_writable(locations.doc_folder)
        )
        self._refuse_unreadable_target(document, target, loaded)
        table = copy_table(loaded.table) if loaded is not None else {}
        edit(table, loaded is None, locations.koreader_path)
        header = _existing_header(target.path) if loaded is not None and loaded.path == target.path else None
        try:
            content = render_settings_file(table, header if header is not None else target.header)
            rotated = replace_file(target.path, content, now=self._clock())
        except (ValueError, OSError) as error:
            message = f"{document.name}: cannot write KOReader sidecar {target.path}: {error}"
            raise SidecarError(message) from None
        self._stay_newest(document, locations, target.path)
        log.info("%s: wrote %s%s", document.name, target.path, " (previous kept as .old)" if rotated else "")
        return target.path

    def remove_leftovers(self, document: Path) -> list[Path]:
        """Delete temporary files an interrupted write of this book's sidecar left behind."""
        digest = self._digest(document) if self._hash_enabled() else None
        folders = dict.fromkeys(sidecar_folders(self._paths, document, digest))
        return [path for folder in folders for path in remove_temp_files(folder)]

    def sidecar_candidates(self, document: Path) -> list[Path]:
        """Every file KOReader may read this book's state from, existing or not (for watchers)."""
        return self._locate(document, hash_enabled=True).all_paths()

    def _hash_enabled(self) -> bool:
        """KOReader reads hash locations in hash mode, or when the hash folder exists."""
        hash_folder = f"{self._paths.data_text}/{HASH_FOLDER}"
        return self.metadata_mode() is MetadataMode.HASH or os.path.isdir(hash_folder)

    def _locate(self, document: Path, hash_enabled: bool) -> BookLocations:
        return locate(self._paths, document, self._digest(document) if hash_enabled else None)

    def _digest(self, document: Path) -> str | None:
        """The partial MD5, cached while the file is unchanged; None when it cannot be read."""
        try:
            stat = document.stat()
        except OSError:
            return None
        key = (document, stat.st_size, stat.st_mtime_ns)
        if key not in self._digests:
            try:
                self._digests[key] = partial_md5(document)
            except OSError as error:
                log.warning("%s: cannot hash the book file %s: %s", document.name, document, error)
                self._digests[key] = None
        return self._digests[key]

    def _load(self, document: Path, locations: BookLocations) -> LoadedSidecar | None:
        candidates = locations.candidates(
            hash_enabled=locations.hash is not None,
            history_enabled=os.path.isdir(f"{self._paths.data_text}/{LEGACY_HISTORY_FOLDER}"),
        )
        failures: list[SidecarError] = []
        for found in read_order(candidates):
            if found.size == 0:
                continue
            try:
                table = self._sandbox.load_file(found.path)
                mtime = datetime.fromtimestamp(found.path.stat().st_mtime, UTC)
            except SidecarError as error:
                log.warning("%s: skipping a sidecar KOReader would delete: %s", document.name, error)
                failures.append(error)
                continue
            except OSError as error:
                failures.append(SidecarError(f"KOReader file {found.path} cannot be read: {error}"))
                continue
            return LoadedSidecar(found.path, table, mtime)
        if failures:
            raise SidecarError(f"{document.name}: {failures[0]}")
        return None

    def _refuse_unreadable_target(
        self, document: Path, target: SidecarSpot, loaded: LoadedSidecar | None
    ) -> None:
        if loaded is not None and loaded.path == target.path:
            return
        try:
            if target.path.stat().st_size == 0:
                return
        except FileNotFoundError:
            return
        except OSError as error:
            message = f"{document.name}: KOReader sidecar {target.path} cannot be read: {error}"
            raise SidecarError(message) from None
        try:
            self._sandbox.load_file(target.path)
        except SidecarError as error:
            raise SidecarError(f"{document.name}: not overwriting an unreadable sidecar: {error}") from None

    def _stay_newest(self, document: Path, locations: BookLocations, written: Path) -> None:
        """Move the written file's mtime forward if another copy would still win on open."""
        candidates = locations.candidates(
            hash_enabled=locations.hash is not None,
            history_enabled=os.path.isdir(f"{self._paths.data_text}/{LEGACY_HISTORY_FOLDER}"),
        )
        order = read_order(candidates)
        if not order or order[0].path == written:
            return
        leader = order[0]
        newer = leader.mtime + FAT_MTIME_STEP
        os.utime(written, (written.stat().st_atime, newer))
        log.info("%s: moved %s's mtime past %s, dated in the future", document.name, written, leader.path)


def apply_pull(table: LuaTable, change: KOReaderWrite, *, creating: bool, doc_path: str) -> None:
    """Set exactly the keys a pull owns; everything else in ``table`` stays untouched."""
    if change.last_xpointer is not None:
        if "cre_dom_version" not in table and "last_xpointer" not in table:
            table["cre_dom_version"] = COMPATIBLE_DOM_VERSION
        table["last_xpointer"] = change.last_xpointer
    table["percent_finished"] = change.percent
    table["last_percent"] = change.percent
    summary = table.get("summary")
    if not isinstance(summary, dict):
        summary = {}
        table["summary"] = summary
    summary["status"] = change.status
    summary["modified"] = change.modified
    if creating:
        table["cre_dom_version"] = COMPATIBLE_DOM_VERSION
        table["doc_path"] = doc_path


def _check_percent(document: Path, percent: float) -> None:
    if not (math.isfinite(percent) and 0.0 <= percent <= 1.0):
        raise SidecarError(f"{document.name}: refusing to write progress {percent!r}, not a fraction 0..1")


def _folder_writable(folder: Path) -> bool:
    """Whether KOReader could create or write ``folder`` (its nearest existing ancestor decides)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


def _file_digest(path: str) -> bytes:
    """``path``'s stat and content, as bytes for a digest; a short marker when it is not a file."""
    try:
        with open(path, "rb") as stream:
            found = os.fstat(stream.fileno())
            if not stat_module.S_ISREG(found.st_mode):
                return b"\0not-a-file\0"
            content = stream.read()
    except OSError:
        return ABSENT
    head = repr((path, found.st_size, found.st_mtime_ns)).encode()  # no inode: see FileStamp
    return head + hashlib.blake2b(content, digest_size=20).digest()


def _existing_header(path: Path) -> str | None:
    """The first line of a sidecar when it is KOReader's ``-- <path>`` comment."""
    try:
        with path.open("rb") as stream:
            line = stream.readline(MAX_HEADER_BYTES)
    except OSError:
        return None
    if not line.startswith(HEADER_PREFIX) or not line.endswith(b"\n") or b"\r" in line:
        return None
    return line[len(HEADER_PREFIX) : -1].decode("utf-8", "surrogateescape")


def _state(document: Path, loaded: LoadedSidecar, history_time: datetime | None) -> KOReaderState:
    table = loaded.table
    summary = table.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    return KOReaderState(
        document=document,
        sidecar=loaded.path,
        last_xpointer=_text(table.get("last_xpointer")),
        percent_finished=_number(table.get("percent_finished")),
        last_percent=_number(table.get("last_percent")),
        status=_text(summary.get("status")),
        modified=_text(summary.get("modified")),
        doc_pages=_whole(table.get("doc_pages")),
        partial_md5=_text(table.get("partial_md5_checksum")),
        cre_dom_version=_whole(table.get("cre_dom_version")),
        block_rendering_mode=_whole(table.get("copt_block_rendering_mode")),
        settings_reset=table.get("docsettings_reset_done") is True,
        history_time=history_time,
        sidecar_mtime=loaded.mtime,
    )


def _text(value: LuaValue | None) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: LuaValue | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _whole(value: LuaValue | None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    return int(value)
