"""The composition root: every port is wired to its adapter here, and only here.

Tests replace any adapter with ``container.<provider>.override(fake)``.
"""

from __future__ import annotations

from pathlib import Path

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.device import DeviceLayout, default_sd_card, device_id
from adapters.epub.annotation_positions import EpubAnnotationPlacer
from adapters.epub.content import EpubContent
from adapters.kobo.backup import BackupStore
from adapters.kobo.bookmarks import NickelBookmarks
from adapters.kobo.connection import OnWait
from adapters.kobo.library import BACKUPS_KEPT, NickelLibrary
from adapters.koreader.annotations import SidecarAnnotations
from adapters.koreader.library import SidecarLibrary
from adapters.ledger.sql_ledger import SqlLedger
from application.annotations import AnnotationSync
from application.service import SyncService
from application.settings import Settings


def _ledger_path(layout: DeviceLayout) -> Path:
    return layout.kksync_dir / "ledger.sqlite"


def _backups_folder(layout: DeviceLayout) -> Path:
    return layout.kksync_dir / "backups"


class Container(containers.DeclarativeContainer):
    """One container per run of the command or per daemon."""

    config = providers.Configuration()

    settings = providers.Object(Settings())
    clock = providers.Singleton(SystemClock)
    layout = providers.Singleton(DeviceLayout, root=config.device, sd_root=config.sd_root)
    on_wait: providers.Object[OnWait | None] = providers.Object(None)
    """Called when a Kobo database lock is about to be waited for (the CLI says so on stderr)."""
    kobo_library = providers.Singleton(
        NickelLibrary,
        layout=layout,
        busy_timeout_seconds=config.busy_timeout_seconds,
        clock=clock,
        on_wait=on_wait,
    )
    backups = providers.Singleton(
        BackupStore, folder=providers.Callable(_backups_folder, layout), keep=BACKUPS_KEPT
    )
    koreader_library = providers.Singleton(SidecarLibrary, layout=layout, koreader_dir=config.koreader_dir)
    book_content = providers.Singleton(EpubContent)
    ledger = providers.Singleton(
        SqlLedger,
        path=providers.Callable(_ledger_path, layout),
        device_id=providers.Callable(device_id, config.device),
    )
    kobo_annotations = providers.Singleton(
        NickelBookmarks,
        database=providers.Callable(lambda layout: layout.database, layout),
        busy_timeout_seconds=config.busy_timeout_seconds,
    )
    koreader_annotations = providers.Singleton(SidecarAnnotations, library=koreader_library)
    annotation_placer = providers.Singleton(EpubAnnotationPlacer, content=book_content)
    annotations = providers.Singleton(
        AnnotationSync,
        kobo=kobo_library,
        kobo_annotations=kobo_annotations,
        koreader_annotations=koreader_annotations,
        placer=annotation_placer,
        ledger=ledger,
        clock=clock,
    )
    service = providers.Singleton(
        SyncService,
        kobo=kobo_library,
        koreader=koreader_library,
        content=book_content,
        ledger=ledger,
        clock=clock,
        settings=settings,
        annotations=annotations,
    )


def build_container(
    device: Path, settings: Settings, sd_root: Path | None = None, on_wait: OnWait | None = None
) -> Container:
    """A container for one Kobo with the effective settings (and its SD card, when there is one)."""
    container = Container()
    container.config.from_dict(
        {
            "device": device,
            "sd_root": sd_root or default_sd_card(device),
            "busy_timeout_seconds": settings.busy_timeout_seconds,
            "koreader_dir": settings.koreader_dir,
        }
    )
    container.settings.override(providers.Object(settings))
    if on_wait is not None:
        container.on_wait.override(providers.Object(on_wait))
    return container
