"""The daemon's event filter, debouncing and watch roots."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from entrypoints.daemon.watcher import Debouncer, WatchedPaths, watch_roots

ROOT = Path("/media/me/KOBOeReader")
KOREADER = ROOT / ".adds" / "koreader"


def test_only_paths_that_can_hold_a_books_state_are_relevant() -> None:
    paths = WatchedPaths(ROOT, KOREADER)
    relevant = [
        ROOT / ".kobo" / "KoboReader.sqlite",
        ROOT / ".kobo" / "KoboReader.sqlite-wal",
        ROOT / ".kobo" / "kepub" / "0RDTATJQNHSQ0.sdr" / "metadata.epub.lua",
        ROOT / "Books" / "Emma.sdr" / "metadata.epub.lua.tmp",
        KOREADER / "docsettings" / "mnt" / "onboard" / "Books" / "Emma.sdr" / "metadata.epub.lua",
        KOREADER / "hashdocsettings" / "3f" / "3f2a.sdr" / "metadata.epub.lua",
        KOREADER / "hashdocsettings",
        KOREADER / "history.lua",
    ]
    ignored = [
        ROOT / ".kobo" / "KoboReader.sqlite-shm-not-ours" / "x",
        ROOT / ".kobo" / "kepub" / "0RDTATJQNHSQ0",
        ROOT / ".kobo-images" / "1" / "2" / "x - N3_FULL.parsed",
        KOREADER / "cache" / "cr3cache" / "x.cr3",
        KOREADER / "settings.reader.lua",
        ROOT / "Books" / "KoboReader.sqlite",
    ]
    assert [p for p in relevant if not paths.relevant(str(p))] == []
    assert [p for p in ignored if paths.relevant(str(p))] == []


def test_a_burst_of_events_becomes_one_batch_after_the_quiet_time() -> None:
    batches: list[set[str]] = []
    debouncer = Debouncer(batches.append, quiet=0.2, longest=5.0)
    thread = threading.Thread(target=debouncer.run)
    thread.start()
    try:
        for n in range(10):
            debouncer.add(f"/db-{n % 3}")
            time.sleep(0.02)
        assert batches == []
        deadline = time.monotonic() + 3
        while not batches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batches == [{"/db-0", "/db-1", "/db-2"}]
    finally:
        debouncer.close()
        thread.join(5)
    assert not thread.is_alive()


def test_endless_writing_still_yields_a_batch_after_the_longest_wait() -> None:
    batches: list[set[str]] = []
    debouncer = Debouncer(batches.append, quiet=0.2, longest=0.4)
    thread = threading.Thread(target=debouncer.run)
    thread.start()
    try:
        begun = time.monotonic()
        while not batches and time.monotonic() - begun < 3:
            debouncer.add("/db")
            time.sleep(0.05)
        assert batches and time.monotonic() - begun < 1.5
    finally:
        debouncer.close()
        thread.join(5)


def test_a_failing_batch_does_not_stop_the_debouncer() -> None:
    seen: list[set[str]] = []

    def handle(batch: set[str]) -> None:
        seen.append(batch)
        if len(seen) == 1:
            raise RuntimeError("database locked")

    debouncer = Debouncer(handle, quiet=0.05)
    thread = threading.Thread(target=debouncer.run)
    thread.start()
    try:
        debouncer.add("/a")
        time.sleep(0.3)
        debouncer.add("/b")
        time.sleep(0.3)
    finally:
        debouncer.close()
        thread.join(5)
    assert seen == [{"/a"}, {"/b"}]


def test_watch_roots_keep_the_fewest_existing_folders(tmp_path: Path) -> None:
    root = tmp_path / "kobo"
    for folder in (".kobo/kepub", ".adds/koreader", "Books/Austen", "Books", "Other"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    books = [root / "Books/Austen", root / "Books", root / "Other", root / "Gone"]
    roots = watch_roots(root, root / ".adds/koreader", books)
    assert roots == sorted([root / ".adds/koreader", root / ".kobo", root / "Books", root / "Other"])
