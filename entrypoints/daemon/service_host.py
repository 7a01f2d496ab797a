"""The one SyncService of an RPC server or daemon, with the settings it runs under.

``kksync rpc`` and ``kksync daemon`` are long-lived: the plugin may change a setting while they
run. The host re-reads the settings from the same place the CLI does and makes the service use
them; when a setting wired into the adapters changes (the KOReader folder, the busy timeout),
the whole container is rebuilt and the books KOReader has open are carried over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from adapters.config_file import load_settings
from application.service import SyncService
from application.settings import Settings
from entrypoints.container import Container, build_container
from entrypoints.daemon.service_worker import ServiceWorker

log = logging.getLogger(__name__)

T = TypeVar("T")
ContainerFactory = Callable[[Path, Settings], Container]


class ServiceHost:
    """The device, its effective settings and the service, reached only through the worker."""

    def __init__(
        self,
        root: Path,
        koreader_dir: Path | None,
        worker: ServiceWorker,
        build: ContainerFactory = build_container,
    ) -> None:
        self.root = root
        self.koreader_dir_override = koreader_dir
        self.worker = worker
        self._build = build
        self.settings = self.load_settings()
        self.container = build(root, self.settings)
        self.service: SyncService = self.container.service()
        self.on_rewired: list[Callable[[], None]] = []
        """Called (on the worker) after a settings change rebuilt the service, e.g. to watch a new folder."""

    def load_settings(self) -> Settings:
        """Defaults < config.toml < KKSYNC_* < the ``--koreader-dir`` this server was started with."""
        override = str(self.koreader_dir_override) if self.koreader_dir_override else None
        return load_settings(self.root, {"koreader_dir": override})

    @property
    def koreader_dir(self) -> Path:
        return self.settings.koreader_dir or self.root / ".adds" / "koreader"

    def run(self, work: Callable[[SyncService], T], timeout: float | None = None) -> T:
        """Run ``work(service)`` on the worker thread (waiting at most ``timeout`` for a turn)."""
        return self.worker.call(lambda: work(self.service), timeout)

    def apply_settings(self, settings: Settings) -> None:
        """Make the service use ``settings``; call on the worker thread only."""
        previous, self.settings = self.settings, settings
        if (settings.koreader_dir, settings.busy_timeout_seconds) == (
            previous.koreader_dir,
            previous.busy_timeout_seconds,
        ):
            self.service.settings = settings
            return
        log.info("settings changed the adapters' wiring; rebuilding the service")
        open_books = set(self.service.open_books)
        self.container = self._build(self.root, settings)
        self.service = self.container.service()
        self.service.open_books.update(open_books)
        for listener in self.on_rewired:
            listener()
