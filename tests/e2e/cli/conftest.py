"""Device templates built once per session (only when a test asks); every test works on its own copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from tests.e2e.cli.devices import MAIN_BOOKS, POLICY_BOOKS, build_device
from tests.e2e.cli.real_fixture import build_real_fixture_device

CopyDevice = Callable[[], DeviceLayout]


def _copier(template: Path, factory: pytest.TempPathFactory) -> CopyDevice:
    def copy() -> DeviceLayout:
        # A space in the folder name: the command must never split or mangle device paths.
        target = factory.mktemp(template.name) / "KOBO eReader"
        shutil.copytree(template, target, copy_function=shutil.copy2)  # mtimes kept
        return DeviceLayout(target)

    return copy


@pytest.fixture(scope="session")
def main_device(tmp_path_factory: pytest.TempPathFactory) -> CopyDevice:
    """Fresh copies of the demo library (plus a book with an awkward id)."""
    template = build_device(tmp_path_factory.mktemp("templates") / "main", MAIN_BOOKS).root
    return _copier(template, tmp_path_factory)


@pytest.fixture(scope="session")
def policy_device(tmp_path_factory: pytest.TempPathFactory) -> CopyDevice:
    """Fresh copies of the device with one book in each policy cell."""
    template = build_device(tmp_path_factory.mktemp("templates") / "policy", POLICY_BOOKS).root
    return _copier(template, tmp_path_factory)


@pytest.fixture(scope="session")
def real_device(tmp_path_factory: pytest.TempPathFactory) -> CopyDevice:
    """Fresh copies of the real firmware 4.38 database with generated book files."""
    template = build_real_fixture_device(tmp_path_factory.mktemp("templates") / "real").root
    return _copier(template, tmp_path_factory)
