"""An in-memory ``KOReaderLibrary``: sidecars as dicts, history times as a dict.

It keeps the port's observable rules (the contract tests hold it to them): a pull sets only the
keys it owns, ``last_xpointer`` None leaves the pointer alone, a new sidecar gets
``cre_dom_version`` 20240114 and ``doc_path``, the history time counts only with a sidecar.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from application.errors import SidecarError
from application.records import KOReaderState, KOReaderWrite

COMPATIBLE_DOM_VERSION = 20240114


def _now() -> datetime:
    return datetime.now(UTC)


class FakeKOReaderLibrary:
    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        self.sidecars: dict[Path, dict[Any, Any]] = {}
        self.mtimes: dict[Path, datetime] = {}
        self.history: dict[Path, datetime] = {}
        self.broken: set[Path] = set()
        self.writes: list[tuple[Path, KOReaderWrite]] = []
        self.reads = 0
        self.fingerprints = 0
        self._clock = clock

    def seed(
        self,
        document: Path,
        table: dict[Any, Any],
        *,
        history_time: datetime | None = None,
        mtime: datetime | None = None,
    ) -> None:
        """Put a sidecar in place as if KOReader had saved it."""
        self.sidecars[document] = copy.deepcopy(table)
        self.mtimes[document] = mtime or self._clock()
        if history_time is not None:
            self.history[document] = history_time

    def sidecar_path(self, document: Path) -> Path:
        stem, dot, suffix = str(document).rpartition(".")
        if not dot:
            stem, suffix = str(document), "_"
        return Path(f"{stem}.sdr") / f"metadata.{suffix}.lua"

    def read(self, document: Path) -> KOReaderState:
        self.reads += 1
        if document in self.broken:
            raise SidecarError(
                f"{document.name}: KOReader file {self.sidecar_path(document)} refused: broken"
            )
        table = self.sidecars.get(document)
        if table is None:
            return KOReaderState(document)
        found = table.get("summary")
        summary: dict[Any, Any] = found if isinstance(found, dict) else {}
        return KOReaderState(
            document=document,
            sidecar=self.sidecar_path(document),
            last_xpointer=table.get("last_xpointer"),
            percent_finished=table.get("percent_finished"),
            last_percent=table.get("last_percent"),
            status=summary.get("status"),
            modified=summary.get("modified"),
            doc_pages=table.get("doc_pages"),
            partial_md5=table.get("partial_md5_checksum"),
            cre_dom_version=table.get("cre_dom_version"),
            history_time=self.history.get(document),
            sidecar_mtime=self.mtimes[document],
        )

    def fingerprint(self, document: Path) -> str:
        """The stored state itself, printed: it changes exactly when ``read`` would."""
        self.fingerprints += 1
        state = (
            document in self.broken,
            self.sidecars.get(document),
            self.mtimes.get(document),
            self.history.get(document),
        )
        return repr(state)

    def write(self, document: Path, change: KOReaderWrite) -> Path:
        if document in self.broken:
            raise SidecarError(f"{document.name}: not overwriting an unreadable sidecar")
        if not 0.0 <= change.percent <= 1.0:
            raise SidecarError(f"{document.name}: refusing to write progress {change.percent!r}")
        table = self.sidecars.setdefault(document, {})
        if not table:
            table.update(cre_dom_version=COMPATIBLE_DOM_VERSION, doc_path=str(document))
        if change.last_xpointer is not None:
            if "cre_dom_version" not in table and "last_xpointer" not in table:
                table["cre_dom_version"] = COMPATIBLE_DOM_VERSION
            table["last_xpointer"] = change.last_xpointer
        table["percent_finished"] = table["last_percent"] = change.percent
        table.setdefault("summary", {}).update(status=change.status, modified=change.modified)
        self.mtimes[document] = self._clock()
        self.writes.append((document, change))
        return self.sidecar_path(document)
