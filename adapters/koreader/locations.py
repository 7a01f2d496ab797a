"""Where KOReader keeps a book's sidecar, and which of several copies it would load.

All names follow ``DocSettings`` (docs/reference/koreader.md §1) and are built from the path
KOReader itself opens the book with: the on-device path (``/mnt/onboard/...``) when KOReader runs on
the Kobo, the host path when a desktop KOReader (its data dir outside the device) reads the books.

- ``doc`` mode: ``<stem>.sdr/metadata.<suffix>.lua`` beside the book, where the stem is the path
  up to the last ``.`` of the *whole* path and the suffix what follows it (``_`` without a dot);
- ``dir`` mode: ``<data>/docsettings`` + the doc-mode folder, a plain string concatenation;
- ``hash`` mode: ``<data>/hashdocsettings/<h[:2]>/<h>.sdr`` with ``h`` the partial MD5.

Nickel's extension-less kepubs (``.kobo/kepub/<ContentID>``) follow the kobo.koplugin convention
instead: the folder is ``<file>.sdr`` and the file always ``metadata.epub.lua``.

Header lines are the path as KOReader passes it to its writer: the absolute book-side path in doc
mode, and in dir/hash mode the data dir as KOReader knows it, which on a Kobo is the relative ``.``
(``./docsettings/...``) because KOReader runs from its own folder.
"""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

from adapters.device import CARD_KEPUBS, ONBOARD, ONBOARD_KEPUBS, SD_CARD, STORE_BOOK_FOLDERS, DeviceLayout
from application.errors import SidecarError

KEPUB_FOLDERS = STORE_BOOK_FOLDERS
BACKUP_SUFFIX = ".old"
SIDECAR_FOLDER_SUFFIX = ".sdr"
DEVICE_DATA_LABEL = "."


class MetadataMode(Enum):
    """KOReader's ``document_metadata_folder`` setting; anything unknown means ``doc``."""

    DOC = "doc"
    DIR = "dir"
    HASH = "hash"


@dataclass(frozen=True)
class SidecarSpot:
    """One place a sidecar can be: the file on this host and the path KOReader writes in its header."""

    path: Path
    header: str

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)


@dataclass(frozen=True)
class Candidate:
    """A file KOReader considers on open; ``priority`` breaks mtime ties (lower wins)."""

    path: Path
    priority: int
    primary: Path | None = None


@dataclass(frozen=True)
class FoundSidecar:
    """An existing candidate with the mtime KOReader sorts it by (whole seconds)."""

    path: Path
    priority: int
    mtime: int
    size: int


class KOReaderPaths:
    """How KOReader names files: on-device paths when its data dir is on the Kobo, host paths otherwise."""

    def __init__(self, layout: DeviceLayout, data_dir: Path) -> None:
        self.layout = layout
        self.data_dir = Path(os.path.abspath(data_dir))
        self.on_device = layout.to_device(self.data_dir) is not None
        self.data_label = DEVICE_DATA_LABEL if self.on_device else str(self.data_dir)

    @property
    def kepub_folders(self) -> tuple[PurePosixPath, ...]:
        """Nickel's kepub folders as KOReader sees them: on the Kobo, or on this host's mount.

        A desktop KOReader can open these extension-less files only through the kksync plugin
        (with ``KKSYNC_DEVICE_ROOT`` pointing at the mount), which names their sidecars by the
        same convention, so the host paths get it too.
        """
        if self.on_device:
            return KEPUB_FOLDERS
        folders = [PurePosixPath(os.path.abspath(self.layout.root)) / ONBOARD_KEPUBS.relative_to(ONBOARD)]
        if self.layout.sd_root is not None:
            card = PurePosixPath(os.path.abspath(self.layout.sd_root))
            folders.append(card / CARD_KEPUBS.relative_to(SD_CARD))
        return tuple(folders)

    def document_path(self, document: Path) -> str:
        """The path KOReader opens this book with (and stores in ``doc_path``)."""
        if not self.on_device:
            return os.path.abspath(document)
        device_path = self.layout.to_device(document)
        if device_path is None:
            raise SidecarError(f"{document.name}: the book file {document} is not on the Kobo")
        return device_path

    def history_path(self, document: Path, koreader_path: str | None = None) -> str:
        """The ``file`` KOReader records in ``history.lua``: the book's real path.

        ``koreader_path`` is ``document_path(document)`` when the caller has it already (on the
        Kobo the two are the same path: a fingerprint need not map it twice).
        """
        if not self.on_device:
            return os.path.realpath(document)
        return koreader_path if koreader_path is not None else self.document_path(document)

    def host(self, koreader_path: str) -> Path:
        """The host file behind a path as KOReader writes it."""
        return Path(self.host_text(koreader_path))

    def host_text(self, koreader_path: str) -> str:
        """``host`` as text (``Path`` objects are what made locating candidates slow)."""
        if not self.on_device:
            return koreader_path
        host_path = self.layout.to_host_text(koreader_path)
        if host_path is None:
            raise SidecarError(f"KOReader path {koreader_path} is outside the mounted Kobo")
        return host_path

    @property
    def data_text(self) -> str:
        """The data dir as text; candidates under it are this plus a ``/``-led relative path."""
        return str(self.data_dir)


def is_kobo_kepub(koreader_path: str, kepub_folders: tuple[PurePosixPath, ...] = KEPUB_FOLDERS) -> bool:
    """Nickel's extension-less kepub files, named by the kobo.koplugin convention."""
    path = PurePosixPath(koreader_path)
    return path.parent in kepub_folders and "." not in path.name


def sidecar_naming(
    koreader_path: str, kepub_folders: tuple[PurePosixPath, ...] = KEPUB_FOLDERS
) -> tuple[str, str]:
    """The doc-mode ``.sdr`` folder and the metadata file name, as KOReader builds them."""
    if is_kobo_kepub(koreader_path, kepub_folders):
        return koreader_path + SIDECAR_FOLDER_SUFFIX, "metadata.epub.lua"
    dot = koreader_path.rfind(".")
    if dot < 0:
        return koreader_path + SIDECAR_FOLDER_SUFFIX, "metadata._.lua"
    return koreader_path[:dot] + SIDECAR_FOLDER_SUFFIX, f"metadata.{koreader_path[dot + 1 :]}.lua"


def legacy_history_name(koreader_path: str) -> str:
    """The pre-sidecar per-book file in ``<data>/history``: ``[#dir#with#hashes#] name.lua``."""
    folder, _, name = koreader_path.rpartition("/")
    return "[" + (folder + "/").replace("/", "#") + "] " + name + ".lua"


@dataclass(frozen=True, slots=True)
class CandidateFiles:
    """Every file KOReader may load one book's state from, as text paths on this host.

    Built with string operations only: a no-op sync stats and hashes these for every book, and
    building ``Path`` objects for them was half of that. ``BookLocations`` wraps the same texts.
    """

    koreader_path: str
    doc_folder: str
    doc: str
    dir_folder: str
    dir: str
    hash: str | None
    legacy_in_folder: str
    legacy_history: str
    kpdfview: str

    def listed(self, *, hash_enabled: bool, history_enabled: bool) -> list[tuple[str, str | None]]:
        """KOReader's open-time candidates in priority order, each with its primary when a ``.old``.

        A missing ``.sdr`` folder (one ``stat``) rules out its files without looking at them.
        """
        listed: list[tuple[str, str | None]] = []
        if os.path.isdir(self.doc_folder):
            listed += [(self.doc, None), (self.doc + BACKUP_SUFFIX, self.doc), (self.legacy_in_folder, None)]
        if os.path.isdir(self.dir_folder):
            listed += [(self.dir, None), (self.dir + BACKUP_SUFFIX, self.dir)]
        if hash_enabled and self.hash is not None:
            listed += [(self.hash, None), (self.hash + BACKUP_SUFFIX, self.hash)]
        if history_enabled:
            history = self.legacy_history
            listed += [(history, None), (history + BACKUP_SUFFIX, history)]
        listed.append((self.kpdfview, None))
        return listed


@dataclass(frozen=True)
class BookLocations:
    """Every place KOReader looks for one book's sidecar."""

    koreader_path: str
    doc_folder: Path
    doc: SidecarSpot
    dir_folder: Path
    dir: SidecarSpot
    hash: SidecarSpot | None
    legacy_in_folder: Path
    legacy_history: Path
    kpdfview: Path
    files: CandidateFiles

    def target(self, mode: MetadataMode, *, doc_folder_writable: bool) -> SidecarSpot:
        """Where KOReader's next save goes (§1.6); hash mode falls back to doc when unhashable."""
        if mode is MetadataMode.HASH and self.hash is not None:
            return self.hash
        if mode is MetadataMode.DIR or not doc_folder_writable:
            return self.dir
        return self.doc

    def candidates(self, *, hash_enabled: bool, history_enabled: bool) -> list[Candidate]:
        """KOReader's open-time candidate list in priority order, with its existence conditions."""
        listed = self.files.listed(hash_enabled=hash_enabled, history_enabled=history_enabled)
        return [
            Candidate(Path(path), priority, Path(primary) if primary is not None else None)
            for priority, (path, primary) in enumerate(listed)
        ]

    def all_paths(self) -> list[Path]:
        """Every candidate file whether or not it exists, e.g. for a file watcher."""
        spots = [self.doc, self.dir] + ([self.hash] if self.hash is not None else [])
        paths = [p for spot in spots for p in (spot.path, spot.backup)]
        return [*paths, self.legacy_in_folder, self.legacy_history, self.kpdfview]


def locate(paths: KOReaderPaths, document: Path, digest: str | None) -> BookLocations:
    """All sidecar places of one book; ``digest`` is its partial MD5, None when unreadable."""
    files = candidate_files(paths, document, digest)
    doc_folder, file_name = sidecar_naming(files.koreader_path, paths.kepub_folders)
    hash_spot = None
    if files.hash is not None and digest is not None:
        header = f"{paths.data_label}/hashdocsettings/{digest[:2]}/{digest}.sdr/{file_name}"
        hash_spot = SidecarSpot(Path(files.hash), header)
    return BookLocations(
        koreader_path=files.koreader_path,
        doc_folder=Path(files.doc_folder),
        doc=SidecarSpot(Path(files.doc), f"{doc_folder}/{file_name}"),
        dir_folder=Path(files.dir_folder),
        dir=SidecarSpot(Path(files.dir), f"{paths.data_label}/docsettings{doc_folder}/{file_name}"),
        hash=hash_spot,
        legacy_in_folder=Path(files.legacy_in_folder),
        legacy_history=Path(files.legacy_history),
        kpdfview=Path(files.kpdfview),
        files=files,
    )


def candidate_files(paths: KOReaderPaths, document: Path, digest: str | None) -> CandidateFiles:
    """Every candidate file of one book, as text; ``digest`` is its partial MD5, None when unreadable."""
    koreader_path = paths.document_path(document)
    doc_folder, file_name = sidecar_naming(koreader_path, paths.kepub_folders)
    data = paths.data_text
    base_name = koreader_path.rpartition("/")[2]
    hashed = None if digest is None else f"{data}/hashdocsettings/{digest[:2]}/{digest}.sdr/{file_name}"
    return CandidateFiles(
        koreader_path=koreader_path,
        doc_folder=paths.host_text(doc_folder),
        doc=paths.host_text(f"{doc_folder}/{file_name}"),
        dir_folder=f"{data}/docsettings{doc_folder}",
        dir=f"{data}/docsettings{doc_folder}/{file_name}",
        hash=hashed,
        legacy_in_folder=paths.host_text(f"{doc_folder}/{base_name}.lua"),
        legacy_history=f"{data}/history/{legacy_history_name(koreader_path)}",
        kpdfview=paths.host_text(koreader_path + ".kpdfview.lua"),
    )


def sidecar_folders(paths: KOReaderPaths, document: Path, digest: str | None) -> list[str]:
    """The folders kksync writes a book's sidecar in (beside the book, under ``docsettings``, under
    ``hashdocsettings`` when ``digest`` is given), as text: the folders of ``candidate_files``'
    ``doc``, ``dir`` and ``hash``, without mapping each of the book's other candidates."""
    doc_folder = sidecar_naming(paths.document_path(document), paths.kepub_folders)[0]
    data = paths.data_text
    folders = [paths.host_text(doc_folder), f"{data}/docsettings{doc_folder}"]
    if digest is not None:
        folders.append(f"{data}/hashdocsettings/{digest[:2]}/{digest}.sdr")
    return folders


def read_order(candidates: list[Candidate]) -> list[FoundSidecar]:
    """The existing candidates, newest first as KOReader sorts them (§1.5).

    KOReader compares whole-second mtimes, lets list priority break ties, and never lets a ``.old``
    sort ahead of its own primary: a primary older than its backup takes the backup's mtime.
    """
    found: dict[Path, FoundSidecar] = {}
    for candidate in candidates:
        try:
            stat = candidate.path.stat()
        except OSError:
            continue
        if stat_module.S_ISREG(stat.st_mode):
            mtime = int(stat.st_mtime)
            found[candidate.path] = FoundSidecar(candidate.path, candidate.priority, mtime, stat.st_size)
    for candidate in candidates:
        backup = found.get(candidate.path)
        primary = found.get(candidate.primary) if candidate.primary is not None else None
        if backup is not None and primary is not None and backup.mtime > primary.mtime:
            found[primary.path] = FoundSidecar(primary.path, primary.priority, backup.mtime, primary.size)
    return sorted(found.values(), key=lambda sidecar: (-sidecar.mtime, sidecar.priority))
