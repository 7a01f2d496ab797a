"""``kksync install``: copy the Kobo bundle (dist/kksync-kobo-<version>.zip) onto a mounted Kobo.

The zip is laid out as the Kobo's root. Each top-level piece it carries (``.adds/kksync/python``,
``.adds/kksync/bin``, ``.adds/koreader/plugins/kksync.koplugin``, each KOReader patch file) replaces
the previous version of that piece whole, so no file of an older version is left behind; everything
else on the device (books, kksync's settings, backups and ledger in ``.adds/kksync/``, other plugins
and patches) is left alone. The zip is unpacked next to its destination first and swapped in by
renames, so a failure part-way leaves the old version in place, not a mixture.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from application.errors import KksyncError

LAUNCHER = ".adds/kksync/bin/kksync"
# The unit replaced whole: .adds/kksync/<piece> (bin, python) and .adds/koreader/<folder>/<piece>
# (the plugin folder, one patch file): never .adds/koreader/plugins itself, which holds other plugins.
PIECE_DEPTH = {".adds/kksync": 3, ".adds/koreader": 4}
STAGING = ".adds/.kksync-install"
SPARE_BYTES = 16 * 1024 * 1024  # never fill the partition to the last byte: Nickel needs room


class InstallError(KksyncError):
    """The bundle cannot be installed; nothing on the device was changed."""


@dataclass(frozen=True)
class InstalledPiece:
    path: str  # relative to the device root, POSIX
    files: int
    replaced: bool  # an older version was there


def owned_piece(name: str) -> str | None:
    """The replaceable unit a zip entry belongs to (``.adds/kksync/python`` for its stdlib files).

    None for a name outside the places a bundle may write, or one that could climb out of them.
    """
    parts = PurePosixPath(name).parts
    depth = PIECE_DEPTH.get("/".join(parts[:2]))
    if depth is None or len(parts) < depth or ".." in parts or name.startswith("/"):
        return None
    return "/".join(parts[:depth])


def bundle_pieces(archive: zipfile.ZipFile, bundle: Path) -> dict[str, list[zipfile.ZipInfo]]:
    """The zip's files grouped by piece; refuse anything that is not a kksync bundle or escapes .adds/."""
    files = [info for info in archive.infolist() if not info.is_dir()]
    names = {info.filename for info in files}
    if LAUNCHER not in names:
        raise InstallError(f"{bundle} is not a kksync Kobo bundle: it has no {LAUNCHER}")
    pieces: dict[str, list[zipfile.ZipInfo]] = {}
    for info in files:
        piece = owned_piece(info.filename)
        if piece is None:
            raise InstallError(
                f"{bundle} holds {info.filename!r}, outside what a bundle may write; not installed"
            )
        pieces.setdefault(piece, []).append(info)
    return pieces


def check_room(device: Path, archive: zipfile.ZipFile, bundle: Path) -> None:
    needed = sum(info.file_size for info in archive.infolist())
    free = shutil.disk_usage(device).free
    if needed + SPARE_BYTES > free:
        raise InstallError(
            f"{bundle} needs {needed // 2**20} MiB on {device}, which has {free // 2**20} MiB free; "
            "not installed"
        )


def install_bundle(device: Path, bundle: Path) -> list[InstalledPiece]:
    """Unpack ``bundle`` onto the Kobo mounted at ``device``; say which pieces were put in place."""
    if not (device / ".kobo").is_dir():
        raise InstallError(f"{device} is not a Kobo's root: it has no .kobo/ folder; not installed")
    try:
        archive = zipfile.ZipFile(bundle)
    except (OSError, zipfile.BadZipFile) as error:
        raise InstallError(f"cannot read the bundle {bundle}: {error}") from error
    with archive:
        pieces = bundle_pieces(archive, bundle)
        check_room(device, archive, bundle)
        staging = device / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        try:
            archive.extractall(staging)
            restore_modes(archive, staging)
            return [swap_in(device, staging, piece, len(infos)) for piece, infos in sorted(pieces.items())]
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def restore_modes(archive: zipfile.ZipFile, staging: Path) -> None:
    """Give back the executable bits zipfile drops (the launcher, python), where the file system keeps them.

    A Kobo's FAT partition marks every file executable and refuses chmod: that is fine, and ignored.
    """
    for info in archive.infolist():
        mode = (info.external_attr >> 16) & 0o755
        if mode and not info.is_dir():
            try:
                (staging / info.filename).chmod(mode)
            except OSError:
                return


def swap_in(device: Path, staging: Path, piece: str, files: int) -> InstalledPiece:
    """Replace one piece: old version renamed aside, new one renamed in, old one deleted."""
    target = device / piece
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = target.with_name(target.name + ".kksync-old")
    replaced = target.exists()
    if replaced:
        remove(previous)
        target.rename(previous)
    (staging / piece).rename(target)
    remove(previous)
    return InstalledPiece(piece, files, replaced)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def default_bundle(folder: Path, version: str) -> Path:
    """Where ``make kobo-bundle`` leaves the zip for this version of kksync."""
    return folder / "dist" / f"kksync-kobo-{version}.zip"
