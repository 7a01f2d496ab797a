"""The ``KOReaderLibrary`` contract, run against ``SidecarLibrary`` in all three metadata modes
and against the in-memory fake, so the fake cannot drift from the real adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest

from adapters.device import DeviceLayout
from adapters.koreader import SidecarLibrary
from adapters.koreader.locations import KOReaderPaths, MetadataMode, locate
from adapters.koreader.lua_values import LuaTable
from adapters.koreader.lua_writer import render_settings_file
from adapters.koreader.partial_md5 import partial_md5
from application.errors import SidecarError
from application.ports import KOReaderLibrary
from application.records import KOReaderWrite
from tests.fakes.koreader import FakeKOReaderLibrary

READ_AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SEEDED: LuaTable = {
    "cre_dom_version": 20240114,
    "doc_pages": 417,
    "last_xpointer": "/body/DocFragment[12]/body/p[3]/text().0",
    "partial_md5_checksum": "8d3e2b1f0c5a4e6d7b8a9c0d1e2f3a4b",
    "percent_finished": 0.059952038369305,
    "summary": {"modified": "2026-02-19", "status": "reading", "rating": 4},
}
PULL = KOReaderWrite(
    percent=0.5, status="complete", modified="2026-03-02", last_xpointer="/body/DocFragment[20]/body"
)


class Harness(Protocol):
    @property
    def library(self) -> KOReaderLibrary: ...  # read-only, so each harness may hold its own kind

    def book(self, name: str) -> Path: ...

    def seed(self, document: Path, table: LuaTable, history_time: datetime | None = None) -> None: ...

    def corrupt(self, document: Path) -> None: ...


class DeviceHarness:
    """A temporary Kobo with KOReader set to one metadata mode."""

    def __init__(self, tmp_path: Path, mode: MetadataMode) -> None:
        self.root = tmp_path / "KOBOeReader"
        self.data = self.root / ".adds" / "koreader"
        self.data.mkdir(parents=True)
        (self.root / "books").mkdir()
        (self.data / "settings.reader.lua").write_bytes(
            render_settings_file({"document_metadata_folder": mode.value}, "./settings.reader.lua")
        )
        self.mode = mode
        self.layout = DeviceLayout(self.root)
        self.library = SidecarLibrary(self.layout)

    def book(self, name: str) -> Path:
        path = self.root / "books" / name
        path.write_bytes(name.encode() * 500)
        return path

    def _spot(self, document: Path) -> Path:
        where = locate(KOReaderPaths(self.layout, self.data), document, partial_md5(document))
        spot = where.target(self.mode, doc_folder_writable=True)
        spot.path.parent.mkdir(parents=True, exist_ok=True)
        return spot.path

    def seed(self, document: Path, table: LuaTable, history_time: datetime | None = None) -> None:
        self._spot(document).write_bytes(render_settings_file(table, "seeded"))
        if history_time is not None:
            on_device = self.layout.to_device(document)
            assert on_device is not None, f"{document} is not on the Kobo"
            entry: LuaTable = {"file": on_device, "time": int(history_time.timestamp())}
            (self.data / "history.lua").write_bytes(render_settings_file({1: entry}, "./history.lua"))

    def corrupt(self, document: Path) -> None:
        self._spot(document).write_bytes(b'return {["a"] = os.exit()}')


class FakeHarness:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.library = FakeKOReaderLibrary()

    def book(self, name: str) -> Path:
        return self.root / "books" / name

    def seed(self, document: Path, table: LuaTable, history_time: datetime | None = None) -> None:
        self.library.seed(document, table, history_time=history_time)

    def corrupt(self, document: Path) -> None:
        self.library.broken.add(document)


@pytest.fixture(params=["doc", "dir", "hash", "fake"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "fake":
        return FakeHarness(tmp_path)
    return DeviceHarness(tmp_path, MetadataMode(request.param))


def test_a_book_without_sidecar_has_no_state(harness: Harness) -> None:
    state = harness.library.read(harness.book("New.epub"))
    assert not state.exists
    assert state.sidecar is None and state.last_xpointer is None and state.updated_at is None


def test_a_seeded_sidecar_is_read(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    harness.seed(document, SEEDED)
    state = harness.library.read(document)
    assert state.exists and state.document == document
    assert state.last_xpointer == SEEDED["last_xpointer"]
    assert state.percent_finished == pytest.approx(0.059952038369305)
    assert (state.status, state.modified) == ("reading", "2026-02-19")
    assert (state.doc_pages, state.cre_dom_version) == (417, 20240114)
    assert state.partial_md5 == SEEDED["partial_md5_checksum"]


def test_the_history_time_is_the_update_time_when_a_sidecar_exists(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    harness.seed(document, SEEDED, history_time=READ_AT)
    state = harness.library.read(document)
    assert state.history_time == READ_AT
    assert state.updated_at == READ_AT


def test_without_history_the_sidecar_mtime_is_the_update_time(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    harness.seed(document, SEEDED)
    state = harness.library.read(document)
    assert state.history_time is None
    assert state.sidecar_mtime is not None and state.sidecar_mtime.tzinfo is not None
    assert state.updated_at == state.sidecar_mtime
    assert abs((datetime.now(UTC) - state.sidecar_mtime).total_seconds()) < 60


def test_a_history_entry_without_sidecar_means_nothing_was_read(harness: Harness) -> None:
    if isinstance(harness, DeviceHarness):
        document = harness.book("Dune.epub")
        harness.seed(document, SEEDED, history_time=READ_AT)
        for sidecar in harness.root.rglob("metadata.*.lua"):
            sidecar.unlink()
    else:
        assert isinstance(harness, FakeHarness)
        document = harness.book("Dune.epub")
        harness.library.history[document] = READ_AT
    state = harness.library.read(document)
    assert not state.exists and state.updated_at is None


def test_a_pull_creates_a_sidecar_koreader_reads_back(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    written = harness.library.write(document, PULL)
    state = harness.library.read(document)
    assert state.sidecar == written
    assert state.last_xpointer == "/body/DocFragment[20]/body"
    assert state.percent_finished == pytest.approx(0.5) and state.last_percent == pytest.approx(0.5)
    assert (state.status, state.modified) == ("complete", "2026-03-02")
    assert state.cre_dom_version == 20240114


def test_a_pull_into_an_existing_sidecar_updates_only_its_keys(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    harness.seed(document, SEEDED, history_time=READ_AT)
    harness.library.write(document, PULL)
    state = harness.library.read(document)
    assert state.last_xpointer == PULL.last_xpointer and state.status == "complete"
    assert (state.doc_pages, state.partial_md5) == (417, SEEDED["partial_md5_checksum"])
    assert state.history_time == READ_AT


def test_a_pull_without_pointer_keeps_the_old_one(harness: Harness) -> None:
    document = harness.book("Paper.pdf")
    harness.seed(document, SEEDED)
    harness.library.write(document, KOReaderWrite(percent=0.25, status="reading", modified="2026-03-03"))
    state = harness.library.read(document)
    assert state.last_xpointer == SEEDED["last_xpointer"]
    assert state.percent_finished == pytest.approx(0.25)


def test_repeated_pulls_land_in_the_same_sidecar(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    first = harness.library.write(document, PULL)
    second = harness.library.write(
        document, KOReaderWrite(0.75, "reading", "2026-03-04", "/body/DocFragment[30]/body")
    )
    assert first == second
    assert harness.library.read(document).percent_finished == pytest.approx(0.75)


def test_a_broken_sidecar_is_a_sidecar_error_for_reading_and_writing(harness: Harness) -> None:
    document = harness.book("Broken.epub")
    harness.corrupt(document)
    with pytest.raises(SidecarError, match="Broken"):
        harness.library.read(document)
    with pytest.raises(SidecarError, match="Broken"):
        harness.library.write(document, PULL)


@pytest.mark.parametrize("percent", [-0.1, 1.5, float("nan")])
def test_progress_outside_zero_to_one_is_refused(harness: Harness, percent: float) -> None:
    document = harness.book("Dune.epub")
    with pytest.raises(SidecarError):
        harness.library.write(document, KOReaderWrite(percent, "reading", "2026-03-03"))
    assert not harness.library.read(document).exists


def test_the_fingerprint_stays_while_nothing_changes_and_moves_with_any_change(harness: Harness) -> None:
    document = harness.book("Dune.epub")
    nothing = harness.library.fingerprint(document)
    assert harness.library.fingerprint(document) == nothing
    harness.seed(document, SEEDED)
    seeded = harness.library.fingerprint(document)
    assert seeded != nothing and harness.library.fingerprint(document) == seeded
    harness.library.write(document, KOReaderWrite(0.5, "reading", "2026-11-20", None))
    assert harness.library.fingerprint(document) not in (nothing, seeded)
