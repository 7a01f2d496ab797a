"""Removing what an interrupted kksync run left on the device.

A run killed mid-backup leaves ``KoboReader-<stamp>.sqlite.partial`` (a full-size copy each time),
and one killed mid-pull a ``.metadata.<ext>.lua.<random>.kksync-tmp`` beside a sidecar (which
also stops KOReader from removing an empty ``.sdr`` folder). The next run that holds the device
lock removes them: only names kksync itself gives its temporary files, never anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from adapters.kobo.library import NickelLibrary
from adapters.koreader.library import SidecarLibrary

log = logging.getLogger(__name__)


def remove_leftovers(kobo: NickelLibrary, sidecars: SidecarLibrary, documents: Iterable[Path]) -> list[Path]:
    """Delete unfinished backups and sidecar temporary files; log and return what was removed.

    Call it only while holding the device lock: another run's files in progress look the same.
    """
    removed = kobo.remove_unfinished_backups()
    for document in documents:
        try:
            removed.extend(sidecars.remove_leftovers(document))
        except OSError as error:  # e.g. a path too long to look at: nothing of ours can be there
            log.debug("no leftovers looked for beside %s: %s", document, error)
    if removed:
        log.warning(
            "removed %d file(s) an interrupted kksync run left: %s",
            len(removed),
            ", ".join(str(path) for path in removed),
        )
    return removed
