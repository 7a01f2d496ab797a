"""The crengine oracle (``shared/tools/crengine``): found, run, and its answers parsed.

It is looked for in ``$KKSYNC_CRE_ORACLE_DIR``, then in a ``shared/tools/crengine`` folder
beside any parent of this file. Tests that need it skip with a reason when it is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_DIR = "KKSYNC_CRE_ORACLE_DIR"
RELATIVE_DIR = Path("shared/tools/crengine")
WEB_FLAGS = 0x7FFFFFFF
SANER_MASK = ~(0x01000000 | 0x02000000)  # KOReader drops these two flags below DOM 20200223
PAGE_SIZE = ("--width", "500", "--height", "500")


@dataclass(frozen=True)
class Engine:
    """One way KOReader's engine reads a book: binary, DOM version, block rendering flags."""

    name: str
    binary: str
    dom_version: int
    flags: int
    block_rendering_mode: int

    def args(self) -> list[str]:
        return ["--dom-version", str(self.dom_version), "--flags", hex(self.flags), *PAGE_SIZE]


ENGINES = (
    Engine("20171225 legacy", "cre-oracle", 20171225, 0, 0),
    Engine("20171225 web", "cre-oracle", 20171225, WEB_FLAGS & SANER_MASK, 3),
    Engine("20240114", "cre-oracle", 20240114, WEB_FLAGS, 3),
    Engine("20260812", "cre-oracle-head", 20260812, WEB_FLAGS, 3),
)


def oracle_dir(start: Path | None = None) -> Path | None:
    """The folder holding ``cre-oracle`` and ``cre-oracle-head``, or None."""
    configured = os.environ.get(ENV_DIR)
    candidates = [Path(configured)] if configured else []
    here = (start or Path(__file__)).resolve()
    candidates += [parent / RELATIVE_DIR for parent in here.parents]
    for candidate in candidates:
        if (candidate / "cre-oracle").is_file() and (candidate / "cre-oracle-head").is_file():
            return candidate
    return None


class Oracle:
    """Runs the binaries; one document load per ``batch``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def batch(
        self, engine: Engine, book: Path, commands: list[str], *, scroll: bool = False
    ) -> list[dict[str, Any]]:
        if not commands:
            return []
        args = [str(self.directory / engine.binary), *engine.args(), *(["--scroll"] if scroll else [])]
        output = self._run([*args, "batch", str(book)], "\n".join(commands) + "\n")
        return [json.loads(line) for line in output.splitlines() if line.strip()]

    def ids(self, engine: Engine, book: Path) -> list[dict[str, Any]]:
        args = [str(self.directory / engine.binary), *engine.args(), "ids", str(book)]
        return [json.loads(line) for line in self._run(args, "").splitlines() if line.strip()]

    def _run(self, args: list[str], stdin: str) -> str:
        result = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip()[:300]}")
        return result.stdout
