"""A run killed mid-write leaves kksync's own temporary files; the next sync removes exactly those
(issue 15, point 5)."""

from __future__ import annotations

from pathlib import Path

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import ALICE_ID, PRIDE_ID, kksync, sidecar_of


def _plant(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in names]
    for path in paths:
        path.write_bytes(b"SQLite format 3\x00 half a copy")
    return paths


def _sidecar_folder(layout: DeviceLayout, book_id: str) -> Path:
    sidecar = sidecar_of(layout, book_id)
    assert sidecar is not None
    return sidecar.parent


def test_the_next_sync_removes_its_own_leftovers_and_nothing_else(main_device: CopyDevice) -> None:
    layout = main_device()
    backups = layout.kksync_dir / "backups"
    pride_sdr = _sidecar_folder(layout, PRIDE_ID)
    alice_sdr = _sidecar_folder(layout, ALICE_ID)  # pushed: its sidecar is not written
    ours = [
        *_plant(
            backups,
            ["KoboReader-20261130T101500Z.sqlite.partial", "KoboReader-20261130T101500Z-2.sqlite.partial"],
        ),
        *_plant(backups, ["KoboReader-20261130T101500Z-2.sqlite.partial-journal"]),
        *_plant(pride_sdr, [".metadata.epub.lua.k3x_9q2z.kksync-tmp"]),
        *_plant(alice_sdr, [".metadata.epub.lua.a1b2c3d4.kksync-tmp"]),
    ]
    foreign = [
        *_plant(
            backups, ["KoboReader-mine.sqlite.partial", "KoboReader-20261130T101500Z.sqlite.partial.keep"]
        ),
        *_plant(pride_sdr, [".metadata.epub.lua.kksync-tmp", "metadata.epub.lua.a1b2c3d4.kksync-tmp"]),
        *_plant(
            alice_sdr,
            [".metadata.epub.lua.A1B2C3D4.kksync-tmp", ".metadata.epub.lua.a1b2c3d4.kksync-tmp.txt"],
        ),
    ]
    like_ours_but_a_folder = pride_sdr / ".metadata.epub.lua.zzzzzzzz.kksync-tmp"
    like_ours_but_a_folder.mkdir()

    dry = kksync("sync", "--dry-run", "--device", layout.root)
    assert dry.returncode == 0
    assert all(path.exists() for path in ours)  # a dry run writes (and removes) nothing

    result = kksync("sync", "--device", layout.root)
    assert result.returncode == 0, result.stderr
    assert [path for path in ours if path.exists()] == []
    assert [path for path in foreign if not path.exists()] == []
    assert like_ours_but_a_folder.is_dir()
    (line,) = [line for line in result.stderr.splitlines() if "interrupted kksync run" in line]
    assert f"removed {len(ours)} file(s)" in line and str(ours[0]) in line
