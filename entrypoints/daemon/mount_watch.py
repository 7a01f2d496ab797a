"""``kksync daemon`` without ``--device`` on a computer: wait for a Kobo, sync it, wait for the next.

As calibre reacts to a connected reader: the folders a desktop mounts USB drives in
(``/media/$USER``, ``/run/media/$USER``, ``/Volumes``, ``/mnt``, …) are watched with watchdog
(inotify, FSEvents), and on Linux the mount table itself (``/proc/self/mounts`` wakes ``poll``
when anything is mounted or unmounted). Nothing runs while nothing happens. A folder directly in
one of them that holds ``.kobo/KoboReader.sqlite`` is a Kobo: it is synced once, the result is
logged and shown as a desktop notification (``notify-send`` on Linux, ``osascript`` on macOS, when
present), and the Kobo is then left alone until it is unmounted.
"""

from __future__ import annotations

import getpass
import logging
import os
import select
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from adapters.device import is_kobo_root

log = logging.getLogger(__name__)

SETTLE_SECONDS = (0.5, 1.5, 4.0)
"""After a folder appears its file system may be mounted a moment later: look again this late
(only after an event, so an idle computer still sees no wake-ups)."""
MOUNT_TABLE = Path("/proc/self/mounts")
NOTIFY_SECONDS = 10.0

SyncOnce = Callable[[Path], str]
Notify = Callable[[str, str], None]


def default_parents(environ: dict[str, str] | None = None) -> list[Path]:
    """Where desktops mount removable drives, for this user."""
    env = os.environ if environ is None else environ
    user = env.get("USER") or getpass.getuser()
    return [
        Path("/media") / user,
        Path("/run/media") / user,
        Path("/media"),
        Path("/Volumes"),
        Path("/mnt"),
    ]


def desktop_notify(title: str, message: str) -> None:
    """A desktop notification where the platform has a tool for it; silently nothing otherwise."""
    if sys.platform == "darwin":
        tool = shutil.which("osascript")
        script = f"display notification {_applescript(message)} with title {_applescript(title)}"
        command = [tool, "-e", script] if tool else None
    else:
        tool = shutil.which("notify-send")
        command = [tool, "--app-name=kksync", title, message] if tool else None
    if command is None:
        return
    try:
        subprocess.run(command, check=False, timeout=NOTIFY_SECONDS, capture_output=True)
    except (OSError, subprocess.SubprocessError) as error:
        log.debug("desktop notification failed: %s", error)


def _applescript(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Wake(FileSystemEventHandler):  # type: ignore[misc]
    def __init__(self, watcher: MountWatcher) -> None:
        super().__init__()
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in {"created", "deleted", "moved"}:
            self.watcher.wake(settle=True)


class MountWatcher:
    """Syncs each Kobo once when it appears under ``parents``; forgets it when it goes."""

    def __init__(
        self,
        parents: Iterable[Path],
        sync_once: SyncOnce,
        notify: Notify = desktop_notify,
        mount_table: Path | None = MOUNT_TABLE,
    ) -> None:
        self.parents = [Path(os.path.abspath(parent)) for parent in parents]
        self.sync_once = sync_once
        self.notify = notify
        self.mount_table = mount_table
        self.connected: set[Path] = set()
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._observer: Any = None
        self._watched: set[Path] = set()
        self._lock = threading.Lock()

    # -- waking -----------------------------------------------------------------------------

    def wake(self, settle: bool = False) -> None:
        """Look at the mount parents now (and, after a folder event, a few more times soon)."""
        self._wake.set()
        if settle:
            for delay in SETTLE_SECONDS:
                timer = threading.Timer(delay, self._wake.set)
                timer.daemon = True
                timer.start()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def _watch_folders(self) -> None:
        """Watch each parent, or its nearest existing ancestor until the parent itself appears."""
        with self._lock:
            for parent in self.parents:
                folder = parent
                while not folder.is_dir() and folder != folder.parent:
                    folder = folder.parent
                if folder in self._watched or not folder.is_dir():
                    continue
                try:
                    self._observer.schedule(_Wake(self), str(folder), recursive=False)
                except OSError as error:
                    log.debug("cannot watch %s: %s", folder, error)
                    continue
                self._watched.add(folder)

    def _watch_mount_table(self) -> None:
        """Linux: ``poll`` on the mount table returns when anything is mounted or unmounted."""
        if self.mount_table is None or not self.mount_table.exists() or not hasattr(select, "poll"):
            return

        def wait() -> None:
            with self.mount_table.open("rb") as table:  # type: ignore[union-attr]
                poller = select.poll()
                poller.register(table.fileno(), select.POLLERR | select.POLLPRI)
                while not self.stopping.is_set():
                    poller.poll()  # blocks until the mount table changes
                    table.seek(0)
                    table.read()
                    self.wake(settle=True)

        threading.Thread(target=wait, name="kksync-mounts", daemon=True).start()

    # -- looking ----------------------------------------------------------------------------

    def kobos(self) -> set[Path]:
        """Every Kobo root directly in one of the parents right now."""
        found: set[Path] = set()
        for parent in self.parents:
            try:
                children = list(parent.iterdir())
            except OSError:
                continue
            found.update(child for child in children if _is_kobo(child))
        return found

    def check(self) -> None:
        """Sync Kobos that appeared, forget those that went."""
        now = self.kobos()
        for root in sorted(self.connected - now):
            log.info("the Kobo at %s was disconnected; waiting for the next one", root)
            self.connected.discard(root)
        for root in sorted(now - self.connected):
            self.connected.add(root)
            self._sync(root)

    def _sync(self, root: Path) -> None:
        log.info("a Kobo was connected at %s; syncing", root)
        try:
            summary = self.sync_once(root)
        except Exception as error:  # one failed Kobo must not end the waiting
            log.exception("syncing the Kobo at %s failed", root)
            self.notify("kksync: sync failed", f"{root}: {error}")
            return
        log.info("Kobo at %s: %s", root, summary)
        self.notify("kksync: Kobo synced", summary)

    def run(self) -> None:
        """Wait, look, sync — until ``stop``. Blocks the calling thread."""
        self._observer = Observer()
        self._observer.daemon = True
        self._watch_folders()
        self._observer.start()
        self._watch_mount_table()
        log.info("waiting for a Kobo under %s", ", ".join(str(p) for p in self.parents))
        try:
            self._wake.set()  # a Kobo mounted before the daemon started
            while True:
                self._wake.wait()
                self._wake.clear()
                if self.stopping.is_set():
                    return
                self._watch_folders()  # a parent that did not exist may have appeared
                self.check()
        finally:
            self._observer.stop()


def _is_kobo(folder: Path) -> bool:
    try:
        return folder.is_dir() and is_kobo_root(folder)
    except OSError:
        return False


def sync_kobo_once(root: Path, koreader_dir: Path | None) -> str:
    """One full sync of a freshly connected Kobo with its own settings; a one-line summary."""
    from adapters.config_file import load_settings
    from application.service import NobodyToAsk
    from entrypoints.container import build_container

    settings = load_settings(root, {"koreader_dir": str(koreader_dir) if koreader_dir else None})
    if not settings.sync_reading_state:
        return "sync is switched off (sync_reading_state = false); nothing done"
    report = build_container(root, settings).service().sync_all(NobodyToAsk())
    parts = [f"{report.pulled} pulled to KOReader", f"{report.pushed} pushed to the Kobo"]
    if report.failed:
        parts.append(f"{report.failed} failed (see the log)")
    if report.questions:
        parts.append(f"{len(report.questions)} waiting for your decision (kksync sync)")
    parts.append(f"{report.skipped} unchanged")
    return ", ".join(parts)


def run_waiting(koreader_dir: Path | None, parents: list[Path] | None = None) -> MountWatcher:
    """The watcher for ``kksync daemon`` without ``--device`` (call ``run`` to block)."""
    return MountWatcher(
        parents if parents is not None else default_parents(),
        lambda root: sync_kobo_once(root, koreader_dir),
    )
