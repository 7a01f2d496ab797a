"""The daemon notices changes on either side and syncs them within two seconds."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.device import DeviceLayout
from adapters.koreader.library import SidecarLibrary
from application.records import KOReaderWrite
from application.settings import Settings
from entrypoints.container import build_container
from entrypoints.daemon.watcher import ChangeDetector
from entrypoints.demo.run import build_demo_device
from tests.e2e.rpc.conftest import RunningDaemon, wait_for

PRIDE = "0RDTATJQNHSQ0"
PRIDE_PATH = f"/mnt/onboard/.kobo/kepub/{PRIDE}"
TIME_MACHINE = "0V8Q3M5K7T2XZ"
SYNC_SECONDS = 2.0


def nickel_reads_on(device: Path, book_id: str, chapter: str, percent: int) -> None:
    """An UPDATE of the book row through sqlite3, as Nickel makes it when a reader turns pages."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as db, db:
        db.execute(
            "UPDATE content SET ___PercentRead = ?, DateLastRead = ?, ChapterIDBookmarked = ? "
            "WHERE ContentID = ? AND ContentType = 6",
            (percent, now, f"{chapter}#kobo.1.1", book_id),
        )


def koreader_reads_on(device: Path, book_id: str, percent: float, xpointer: str) -> None:
    """KOReader saving the book's sidecar at a new place, written as kksync writes a pull."""
    layout = DeviceLayout(device)
    SidecarLibrary(layout).write(
        layout.book_host_path(book_id),
        KOReaderWrite(
            percent=percent,
            status="reading",
            modified=datetime.now(UTC).date().isoformat(),
            last_xpointer=xpointer,
        ),
    )


def kobo_percent(device: Path, book_id: str) -> int:
    with closing(sqlite3.connect(device / ".kobo" / "KoboReader.sqlite")) as db:
        row = db.execute(
            "SELECT ___PercentRead FROM content WHERE ContentID = ? AND ContentType = 6", (book_id,)
        ).fetchone()
    return int(row[0] or 0)


def koreader_chapter(daemon: RunningDaemon, book_id: str) -> str | None:
    [book] = daemon.result("sync.plan", {"books": [book_id]})["books"]
    chapter = book["koreader"]["chapter"]
    assert chapter is None or isinstance(chapter, str), f"sync.plan gave a chapter of {chapter!r}"
    return chapter


def test_a_nickel_side_change_is_pulled_into_koreader(daemon: RunningDaemon) -> None:
    assert koreader_chapter(daemon, PRIDE) == "OEBPS/Text/chapter02.xhtml"
    begun = time.monotonic()
    nickel_reads_on(daemon.device, PRIDE, "OEBPS/Text/chapter03.xhtml", 90)
    wait_for(
        lambda: koreader_chapter(daemon, PRIDE) == "OEBPS/Text/chapter03.xhtml", SYNC_SECONDS, "the pull"
    )
    assert time.monotonic() - begun < SYNC_SECONDS
    [book] = daemon.result("sync.plan", {"books": [PRIDE]})["books"]
    assert book["reason"] == "IN_SYNC"


def test_a_new_sidecar_version_is_pushed_into_nickel(daemon: RunningDaemon) -> None:
    assert kobo_percent(daemon.device, TIME_MACHINE) == 0
    begun = time.monotonic()
    koreader_reads_on(daemon.device, TIME_MACHINE, 0.6, "/body/DocFragment[3]/body")
    wait_for(lambda: kobo_percent(daemon.device, TIME_MACHINE) > 0, SYNC_SECONDS, "the push")
    assert time.monotonic() - begun < SYNC_SECONDS


def test_a_book_open_in_koreader_is_left_alone_until_it_is_closed(daemon: RunningDaemon) -> None:
    daemon.result("reader.opened", {"path": PRIDE_PATH})
    nickel_reads_on(daemon.device, PRIDE, "OEBPS/Text/chapter03.xhtml", 90)
    wait_for(lambda: "open in KOReader" in daemon.log.read_text(), 5, "the daemon to see the change")
    time.sleep(0.5)
    assert koreader_chapter(daemon, PRIDE) == "OEBPS/Text/chapter02.xhtml"
    [planned] = daemon.result("sync.plan", {"books": [PRIDE]})["books"]
    assert "open in KOReader: left alone until it is closed" in planned["notes"]
    closed = daemon.result("reader.closed", {"path": PRIDE_PATH})
    assert closed["book"]["written"] is True
    assert closed["book"]["decision"] == "PULL"
    assert koreader_chapter(daemon, PRIDE) == "OEBPS/Text/chapter03.xhtml"


def test_the_daemons_own_writes_do_not_start_more_syncs(daemon: RunningDaemon) -> None:
    nickel_reads_on(daemon.device, PRIDE, "OEBPS/Text/chapter03.xhtml", 90)
    wait_for(
        lambda: koreader_chapter(daemon, PRIDE) == "OEBPS/Text/chapter03.xhtml", SYNC_SECONDS, "the pull"
    )
    time.sleep(1.5)  # the events of that write have been debounced and looked at by now
    syncs = daemon.log.read_text().count("Pride and Prejudice: PULL")
    time.sleep(1.0)
    assert daemon.log.read_text().count("Pride and Prejudice: PULL") == syncs == 2  # first sync + this one


def test_a_new_koreader_folder_set_over_rpc_is_watched(daemon: RunningDaemon, tmp_path: Path) -> None:
    """``settings.set koreader_dir`` moves the watch too: a sidecar saved only there is pushed."""
    folder = tmp_path / "desktop-koreader"
    folder.mkdir()
    dir_mode = 'return {\n    ["document_metadata_folder"] = "dir",\n}\n'
    (folder / "settings.reader.lua").write_text(dir_mode)
    daemon.result("settings.set", {"koreader_dir": str(folder)})
    wait_for(lambda: f"watching {folder}" in daemon.log.read_text(), 5, "the daemon to watch the new folder")
    # The sidecar is prepared elsewhere and moved in, so the new folder is the only place that changes.
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "settings.reader.lua").write_text(dir_mode)
    layout = DeviceLayout(daemon.device)
    assert kobo_percent(daemon.device, TIME_MACHINE) == 0
    SidecarLibrary(layout, staging).write(
        layout.book_host_path(TIME_MACHINE),
        KOReaderWrite(
            percent=0.6,
            status="reading",
            modified=datetime.now(UTC).date().isoformat(),
            last_xpointer="/body/DocFragment[3]/body",
        ),
    )
    begun = time.monotonic()
    (staging / "docsettings").rename(folder / "docsettings")
    wait_for(lambda: kobo_percent(daemon.device, TIME_MACHINE) > 0, SYNC_SECONDS, "the push")
    assert time.monotonic() - begun < SYNC_SECONDS


def test_a_snapshot_from_the_run_s_own_book_list_equals_one_that_reads_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon's snapshots reuse the sync's read of the books: the whole library at start-up,
    the synced books after a change."""
    layout = build_demo_device(tmp_path / "kobo")
    container = build_container(layout.root, Settings())
    service = container.service()
    try:
        books = service.library()
        some = [book.book_id for book in books[:2]]
        reading, reading_some = ChangeDetector(), ChangeDetector()
        reading.snapshot(service)
        reading_some.snapshot(service, some)
        monkeypatch.setattr(service, "library", lambda: pytest.fail("read the library again"))
        monkeypatch.setattr(service.kobo, "book", lambda _id: pytest.fail("read a book again"))
        reusing, reusing_some = ChangeDetector(), ChangeDetector()
        reusing.snapshot(service, library=books)
        reusing_some.snapshot(service, some, library=books[:2])
    finally:
        container.kobo_library().close()
    assert vars(reusing) == vars(reading) and reading.documents
    assert vars(reusing_some) == vars(reading_some) and len(reading_some.documents) == 2
