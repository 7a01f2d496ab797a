"""``kksync install``: a bundle zip copied onto a mounted Kobo, replacing the old version cleanly."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from tests.e2e.cli.devices import kksync

LAUNCHER = ".adds/kksync/bin/kksync"


def fake_kobo(root: Path) -> Path:
    (root / ".kobo").mkdir(parents=True)
    (root / ".kobo" / "KoboReader.sqlite").write_bytes(b"")
    return root


def fake_bundle(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name == LAUNCHER else 0o100644) << 16
            archive.writestr(info, text)
    return path


VERSION_1 = {
    LAUNCHER: "#!/bin/sh\necho one\n",
    ".adds/kksync/python/lib/old_module.py": "OLD = 1\n",
    ".adds/koreader/plugins/kksync.koplugin/main.lua": "-- one\n",
    ".adds/koreader/patches/2-kksync-kepub.lua": "-- patch one\n",
}
VERSION_2 = {
    LAUNCHER: "#!/bin/sh\necho two\n",
    ".adds/kksync/python/lib/new_module.py": "NEW = 2\n",
    ".adds/koreader/plugins/kksync.koplugin/main.lua": "-- two\n",
    ".adds/koreader/patches/2-kksync-kepub.lua": "-- patch two\n",
}


def test_install_then_upgrade_replaces_only_what_the_bundle_owns(tmp_path: Path) -> None:
    device = fake_kobo(tmp_path / "KOBOeReader")
    user_files = {
        ".adds/kksync/config.toml": "sync_from_kobo_newer = 'prompt'\n",
        ".adds/koreader/plugins/other.koplugin/main.lua": "-- someone else's plugin\n",
        ".adds/koreader/patches/1-mine.lua": "-- the user's own patch\n",
    }
    for name, text in user_files.items():
        (device / name).parent.mkdir(parents=True, exist_ok=True)
        (device / name).write_text(text)

    first = kksync("install", "--device", device, "--bundle", fake_bundle(tmp_path / "v1.zip", VERSION_1))
    assert first.returncode == 0, first.stderr
    assert "Added .adds/kksync/bin (1 files)" in first.stdout
    assert "Restart KOReader" in first.stdout
    assert (device / ".adds/kksync/python/lib/old_module.py").read_text() == "OLD = 1\n"
    assert os.access(device / LAUNCHER, os.X_OK)

    second = kksync("install", "--device", device, "--bundle", fake_bundle(tmp_path / "v2.zip", VERSION_2))
    assert second.returncode == 0, second.stderr
    assert "Replaced .adds/kksync/python (1 files)" in second.stdout
    assert not (device / ".adds/kksync/python/lib/old_module.py").exists()  # no leftover of version 1
    for name, text in VERSION_2.items():
        assert (device / name).read_text() == text
    for name, text in user_files.items():
        assert (device / name).read_text() == text
    assert not (device / ".adds/.kksync-install").exists()
    assert not list(device.rglob("*.kksync-old"))


def test_install_refuses_a_folder_that_is_not_a_kobo(tmp_path: Path) -> None:
    folder = tmp_path / "usb-stick"
    folder.mkdir()
    result = kksync("install", "--device", folder, "--bundle", fake_bundle(tmp_path / "b.zip", VERSION_1))
    assert result.returncode == 1
    assert "is not a Kobo" in result.stderr
    assert list(folder.iterdir()) == []


def test_install_refuses_a_zip_that_is_not_a_bundle_or_escapes_adds(tmp_path: Path) -> None:
    device = fake_kobo(tmp_path / "KOBOeReader")
    stray = fake_bundle(tmp_path / "stray.zip", {"book.epub": "x"})
    result = kksync("install", "--device", device, "--bundle", stray)
    assert result.returncode == 1
    assert "is not a kksync Kobo bundle" in result.stderr

    escaping = fake_bundle(tmp_path / "evil.zip", {**VERSION_1, ".adds/../../etc/passwd": "x"})
    result = kksync("install", "--device", device, "--bundle", escaping)
    assert result.returncode == 1
    assert "outside what a bundle may write" in result.stderr
    assert sorted(p.name for p in device.iterdir()) == [".kobo"]


def test_install_says_how_to_get_a_bundle_when_there_is_none(tmp_path: Path) -> None:
    device = fake_kobo(tmp_path / "KOBOeReader")
    result = kksync("install", "--device", device, "--bundle", tmp_path / "missing.zip")
    assert result.returncode == 1
    assert "make kobo-bundle" in result.stderr
