"""Where a Kobo's files are on this host, and how on-device paths map to host paths and back.

On the device the user partition is ``/mnt/onboard`` and an SD card is ``/mnt/sd``; Nickel and
KOReader store those absolute paths (sideloaded ContentIDs, ``doc_path``, ``history.lua``).
Over USB the same partition is mounted somewhere else, e.g. ``/media/me/KOBOeReader``.
"""

from __future__ import annotations

import os
import string
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ONBOARD = PurePosixPath("/mnt/onboard")
SD_CARD = PurePosixPath("/mnt/sd")
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

        A book downloaded to an SD card lives in the card's ``.kobo/kepub`` instead.
        """
        main = self.root / ".kobo" / "kepub" / content_id
        if not main.exists() and self.sd_root is not None:
            on_card = self.sd_root / ".kobo" / "kepub" / content_id
            if on_card.exists():
                return on_card
        return main

    def book_device_path(self, content_id: str) -> str:
        """The on-device absolute path of a book, from its ContentID."""
        if content_id.startswith(FILE_SCHEME):
            return content_id[len(FILE_SCHEME) :]
        return str(ONBOARD / ".kobo" / "kepub" / content_id)

    def book_host_path(self, content_id: str) -> Path:
        """The book file on this host (which may not exist)."""
        if content_id.startswith(FILE_SCHEME):
            host = self.to_host(content_id[len(FILE_SCHEME) :])
            return host if host is not None else self.root / content_id[len(FILE_SCHEME) :].lstrip("/")
        return self.kepub_path(content_id)

    def to_host(self, device_path: str) -> Path | None:
        """``/mnt/onboard/x/y.epub`` -> ``<root>/x/y.epub``; None for paths outside the device."""
        path = PurePosixPath(device_path)
        for base, host_base in ((ONBOARD, self.root), (SD_CARD, self.sd_root)):
            if host_base is not None and (path == base or base in path.parents):
                return host_base.joinpath(*path.relative_to(base).parts)
        return None

    def to_device(self, host_path: Path) -> str | None:
        """The inverse of ``to_host``; None for host paths outside the mounted partitions."""
        for base, host_base in ((ONBOARD, self.root), (SD_CARD, self.sd_root)):
            if host_base is None:
                continue
            try:
                relative = Path(os.path.abspath(host_path)).relative_to(os.path.abspath(host_base))
            except ValueError:
                continue
            return str(base.joinpath(*relative.parts))
        return None


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
