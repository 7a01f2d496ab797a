"""The crengine oracle (``cre-oracle``, KOReader's EPUB engine on the command line), when present.

Found through ``KKSYNC_CRE_ORACLE`` or by walking up from this file to a ``shared/tools/crengine``
folder; tests that need it skip with the reason when it is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest


def find_oracle() -> Path | None:
    configured = os.environ.get("KKSYNC_CRE_ORACLE")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "tools" / "crengine" / "cre-oracle"
        if candidate.is_file():
            return candidate
    return None


def require_oracle() -> Path:
    oracle = find_oracle()
    if oracle is None:
        pytest.skip("the crengine oracle is absent (set KKSYNC_CRE_ORACLE or keep shared/tools/crengine)")
    return oracle


def resolve_all(book: Path, xpointers: list[str]) -> list[dict[str, Any]]:
    """crengine's answer for each pointer, from one document load."""
    commands = "".join(f"resolve {pointer}\n" for pointer in xpointers)
    done = subprocess.run(
        [str(require_oracle()), "batch", str(book)],
        input=commands,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
