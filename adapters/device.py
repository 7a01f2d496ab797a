"""Where a Kobo's files are on this host, and how on-device paths map to host paths and back.

On the device the user partition is ``/mnt/onboard`` and an SD card is ``/mnt/sd``; Nickel and
KOReader store those absolute paths (sideloaded ContentIDs, ``doc_path``, ``history.lua``).
Over USB the same partition is mounted somewhere else, e.g. ``/media/me/KOBOeReader``.

Those paths come from a database and settings files kksync does not control, so a path is only
mapped while it stays inside its partition: ``/mnt/onboard/../../etc/passwd`` maps to nothing,
and a book whose ContentID names such a path is reported missing instead of being read.
"""

from __future__ import annotations

import logging
import os
import posixpath
import string
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

logger = logging.getLogger(__name__)

ONBOARD = PurePosixPath("/mnt/onboard")
SD_CARD = PurePosixPath("/mnt/sd")
MOUNTS = (ONBOARD, SD_CARD)
MOUNT_TEXTS = tuple((mount, str(mount)) for mount in MOUNTS)
# Where Nickel keeps store and server books, named by their ContentID (docs/reference/kobo.md §2.1).
ONBOARD_KEPUBS = ONBOARD / ".kobo" / "kepub"
CARD_KEPUBS = SD_CARD / "koboExtStorage" / "kepub"
STORE_BOOK_FOLDERS = (ONBOARD_KEPUBS, CARD_KEPUBS)
# The Kobo's FAT/exFAT file systems allow none of these in a name; on a Windows host ``\`` and
# ``:`` would turn a name into a separator or a drive, so a path holding one is refused.
FORBIDDEN_NAME_CHARACTERS = frozenset("\\:\x00")
FILE_SCHEME = "file://"
KOBO_LABEL = "KOBOeReader"


@dataclass(frozen=True)
class DeviceLayout:
    """A Kobo's user partition (``root``) and, when mounted, its SD card (``sd_root``)."""

    root: Path
    sd_root: Path | None = None

    @property
    def database(self) -> Path:
        return self.root / ".kobo" / "KoboReader.sqlite"

    @property
    def kksync_dir(self) -> Path:
        return self.root / ".adds" / "kksync"

    @property
    def koreader_dir(self) -> Path:
        return self.root / ".adds" / "koreader"

    def kepub_path(self, content_id: str) -> Path:
        """Where Nickel keeps a server or store book: ``.kobo/kepub/<ContentID>``, no extension.

        A book downloaded to an SD card lives in the card's ``koboExtStorage/kepub`` instead.
        """
        host = self._store_book(content_id)[1]
        if host is None:
            _warn_refused(content_id)
            return self._unreachable_book()
        return host

    def book_device_path(self, content_id: str) -> str:
        """The on-device absolute path of a book, from its ContentID (and, for a store book, where it is)."""
        if content_id.startswith(FILE_SCHEME):
            return content_id[len(FILE_SCHEME) :]
        return self._store_book(content_id)[0]

    def book_host_path(self, content_id: str) -> Path:
        """The book file on this host (which may not exist).

        A book kksync cannot or must not reach (on an SD card that is not mounted, or named by a
        path that leaves the device) gets a stand-in path that is never a file.
        """
        if not content_id.startswith(FILE_SCHEME):
            return self.kepub_path(content_id)
        host = self.to_host(content_id[len(FILE_SCHEME) :])
        return host if host is not None else self._unreachable_book()

    def to_host(self, device_path: str) -> Path | None:
        """``/mnt/onboard/x/y.epub`` -> ``<root>/x/y.epub``.

        None for paths outside the device, on a card that is not mounted, or leaving their mount.
        """
        host = self.to_host_text(device_path)
        return None if host is None else Path(host)

    def to_host_text(self, device_path: str) -> str | None:
        """``to_host`` as the text ``str(to_host(...))``, for callers that only stat or open the file.

        A ``Path`` per candidate sidecar file was most of locating them on a no-op sync.
        """
        inside = _inside_mount(device_path)
        if inside is None:
            return None
        mount, relative = inside
        host_base = self.root if mount == ONBOARD else self.sd_root
        if host_base is None:
            return None
        base = str(host_base)
        if relative == ".":
            return base
        # ``relative`` is normalised (no ``.``/``..``, single slashes): joining the text is the
        # same path as joining its parts, at a fraction of pathlib's cost per candidate file.
        return f"{base}{relative}" if base.endswith(("/", os.sep)) else f"{base}/{relative}"

    def _store_book(self, content_id: str) -> tuple[str, Path | None]:
        """(device path, host path) of a store or server book, named by its ContentID.

        Which storage Nickel downloaded a book to is in no column docs/reference/kobo.md
        documents, so the file decides: the partition's copy first (Nickel's usual place, and the
        path kksync always reported for it, so inserting a card never moves a book that was
        already found), then the card's. When neither exists the partition's path stands for the
        missing book. A ContentID that is not a plain file name is never joined to a folder.
        """
        if not _is_plain_name(content_id):
            return f"{ONBOARD_KEPUBS}/{content_id}", None
        places = [f"{folder}/{content_id}" for folder in STORE_BOOK_FOLDERS]
        for device_path in places:
            host = self.to_host(device_path)
            if host is not None and _exists(host):
                return device_path, host
        return places[0], self.to_host(places[0])

    def unreachable_reason(self, content_id: str) -> str | None:
        """Why kksync will not look for this book's file, or None when it has a place on this host."""
        if not content_id.startswith(FILE_SCHEME):
            if _is_plain_name(content_id):
                return None
            return "its ContentID is not a plain file name ('/', '..', '\\', ':' or NUL); not followed"
        device_path = content_id[len(FILE_SCHEME) :]
        mount = next((base for base in MOUNTS if _is_within(device_path, str(base))), None)
        if mount is None:
            return f"its path is outside the Kobo's storage (not under {ONBOARD} or {SD_CARD})"
        if _inside_mount(device_path, warn=False) is None:
            return "its path leaves the Kobo's storage or holds a name it cannot store ('..', '\\', ':', NUL)"
        if mount == SD_CARD and self.sd_root is None:
            return "it is on the SD card, which is not mounted here (pass --sd-card DIR)"
        return None

    def _unreachable_book(self) -> Path:
        """A host path inside the device where no file is ever created, in a folder that never exists.

        The book then counts as missing, and nothing that looks beside a book file (sidecars,
        folder watches) looks outside the device or at a file that only shares the path.
        """
        return self.kksync_dir / "unreachable" / "book"

    def to_device(self, host_path: Path) -> str | None:
        """The inverse of ``to_host``; None for host paths outside the mounted partitions."""
        absolute = os.path.abspath(host_path)
        for base, host_base in ((ONBOARD, self.root), (SD_CARD, self.sd_root)):
            if host_base is None:
                continue
            folder = os.path.abspath(host_base)
            if absolute == folder:
                return str(base)
            inside = folder if folder.endswith(os.sep) else folder + os.sep
            if absolute.startswith(inside):
                # ``absolute`` is normalised: its separators split it into exactly ``Path.parts``.
                parts = absolute[len(inside) :].split(os.sep)
                if os.altsep is not None:
                    parts = [piece for part in parts for piece in part.split(os.altsep)]
                return "/".join([str(base), *(part for part in parts if part)])
        return None


def _inside_mount(device_path: str, *, warn: bool = True) -> tuple[PurePosixPath, str] | None:
    """(mount, path inside it with ``.`` and ``..`` resolved) for a path on the device, else None.

    ``..`` is resolved on the text alone: the Kobo's FAT file systems have no links, and the
    host's own links must not decide what a path on the device means. A path that ``..`` leads
    out of its mount, or that holds a name the device could not store, is refused with a warning.
    """
    # Plain string tests: this runs for every candidate file of every book, and PurePosixPath's
    # ``parents`` made it a sixth of a whole-library plan.
    found = next(((mount, text) for mount, text in MOUNT_TEXTS if _is_within(device_path, text)), None)
    if found is None:
        return None
    mount, text = found
    rest = device_path[len(text) :].lstrip("/")
    relative = posixpath.normpath(rest) if _needs_normalising(rest) else rest
    if relative == ".." or relative.startswith("../") or not FORBIDDEN_NAME_CHARACTERS.isdisjoint(relative):
        if warn:
            _warn_refused(device_path)
        return None
    return mount, relative


def _exists(path: Path) -> bool:
    """``Path.exists`` that answers False for a name the file system cannot even hold (too long)."""
    try:
        return path.exists()
    except OSError:
        return False


def _needs_normalising(relative: str) -> bool:
    """Whether ``posixpath.normpath`` could change this path (which has no leading ``/``).

    Only an empty, ``.`` or ``..`` component can change, and each shows as ``//``, a trailing
    ``/``, a ``/.`` or a leading ``.``; most names have none, and skip the call.
    """
    return not relative or "//" in relative or "/." in relative or relative[0] == "." or relative[-1] == "/"


def _is_within(path: str, mount: str) -> bool:
    return path == mount or path.startswith(mount + "/")


def _is_plain_name(name: str) -> bool:
    """A single file name: no separator, not ``.`` or ``..``, nothing the device could not store."""
    return name not in ("", ".", "..") and "/" not in name and FORBIDDEN_NAME_CHARACTERS.isdisjoint(name)


def _warn_refused(path: str) -> None:
    logger.warning(
        "%r leads outside the Kobo's storage; kksync will not touch it (such a book counts as missing)", path
    )


def default_sd_card(root: Path, environ: dict[str, str] | None = None) -> Path | None:
    """The SD card to use with this device root, when none was given.

    ``KKSYNC_SD_CARD`` names it on a computer (the card mounts as its own volume); on the Kobo
    itself, where the root is ``/mnt/onboard``, the card is ``/mnt/sd`` when one is inserted.
    """
    named = (os.environ if environ is None else environ).get("KKSYNC_SD_CARD")
    if named:
        return Path(named)
    if os.path.abspath(root) == str(ONBOARD) and os.path.isdir(str(SD_CARD)):
        return Path(str(SD_CARD))
    return None


def is_kobo_root(path: Path) -> bool:
    """A folder is a Kobo's root when it holds ``.kobo/KoboReader.sqlite``."""
    return (path / ".kobo" / "KoboReader.sqlite").is_file()


def mount_candidates() -> list[Path]:
    """The usual places a Kobo is mounted: Linux, macOS, and Windows drive letters."""
    candidates: list[Path] = []
    for pattern_root in (Path("/media"), Path("/run/media")):
        if pattern_root.is_dir():
            candidates.extend(sorted(pattern_root.glob(f"*/{KOBO_LABEL}")))
            candidates.extend(sorted(pattern_root.glob(KOBO_LABEL)))
    candidates.append(Path("/Volumes") / KOBO_LABEL)
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        candidates.extend(_windows_kobo_drives())
    return candidates


def find_mounted_kobos(candidates: list[Path] | None = None) -> list[Path]:
    """Every mounted Kobo among the candidates (the usual mount points by default)."""
    found = []
    for candidate in mount_candidates() if candidates is None else candidates:
        if is_kobo_root(candidate) and candidate not in found:
            found.append(candidate)
    return found


def _windows_kobo_drives() -> list[Path]:  # pragma: no cover - Windows only
    import ctypes

    drives = []
    for letter in string.ascii_uppercase:
        root = f"{letter}:\\"
        label = ctypes.create_unicode_buffer(261)
        ok = ctypes.windll.kernel32.GetVolumeInformationW(  # type: ignore[attr-defined]
            ctypes.c_wchar_p(root), label, 261, None, None, None, None, 0
        )
        if ok and label.value == KOBO_LABEL:
            drives.append(Path(root))
    return drives


def device_id(root: Path) -> str:
    """A stable name for this Kobo: its serial number from ``.kobo/version``, else "kobo".

    The ledger is stored on the device itself, so the id only has to tell apart devices whose
    ledgers were copied around; a missing version file is harmless.
    """
    try:
        first = (root / ".kobo" / "version").read_text(encoding="utf-8", errors="replace").split(",")[0]
    except OSError:
        return "kobo"
    return first.strip() or "kobo"
