"""KOReader's partial MD5 of a book file (docs/reference/koreader.md §2).

KOReader names hash-mode sidecar folders and fills ``partial_md5_checksum`` with an MD5 over at
most twelve 1 KiB samples, so that hashing a large book stays cheap. Its loop asks for
``1024 << (2*i)`` for ``i = -1 .. 10``; LuaJIT masks the negative shift so the first sample is
at offset 0. Reading stops at the first sample that starts at or past the end of the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SAMPLE_BYTES = 1024
FIRST_STEP, LAST_STEP = -1, 10


def sample_offsets() -> list[int]:
    """Where KOReader takes its samples: 0, then 1024 * 4**i for i = 0..10."""
    return [0 if step < 0 else SAMPLE_BYTES << (2 * step) for step in range(FIRST_STEP, LAST_STEP + 1)]


def partial_md5(path: Path) -> str:
    """The lowercase hex digest KOReader computes for this file; raises ``OSError`` if unreadable."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as book:
        for offset in sample_offsets():
            book.seek(offset)
            sample = book.read(SAMPLE_BYTES)
            if not sample:
                break
            digest.update(sample)
    return digest.hexdigest()
