"""The floor: the least work that can decide "nothing changed" for a whole library (issue 13).

    python -m tests.bench.floor DEVICE

Two SQL queries (book rows, chapter rows) on Nickel's database, every KOReader sidecar read and
parsed by one LuaJIT runtime, every book file stat'ed; nothing converted, compared or written.
The bench runs it as its own process, so its wall time includes the interpreter's start-up and
the imports it needs (sqlite3, lupa), as a ``kksync`` command's does. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

import lupa.luajit21 as luajit

BOOKS = (
    "SELECT ContentID, MimeType, Title, Attribution, ReadStatus, ___PercentRead, DateLastRead,"
    " ChapterIDBookmarked FROM content WHERE ContentType = 6"
)
CHAPTERS = (
    "SELECT ContentID, BookID, VolumeIndex, ___FileOffset, ___FileSize, ___PercentRead"
    " FROM content WHERE ContentType = 9 AND BookID IS NOT NULL ORDER BY BookID, VolumeIndex"
)
FILE_SCHEME = "file:///mnt/onboard/"


def floor(root: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{root / '.kobo' / 'KoboReader.sqlite'}?mode=ro", uri=True)) as db:
        books = db.execute(BOOKS).fetchall()
        chapters = db.execute(CHAPTERS).fetchall()
    runtime = luajit.LuaRuntime()
    parse = runtime.eval("function(text) return assert(load(text))() end")
    sidecars = 0
    for folder, _, files in os.walk(root):
        if folder.endswith(".sdr"):
            for name in files:
                if name.startswith("metadata.") and name.endswith(".lua"):
                    parse((Path(folder) / name).read_bytes())
                    sidecars += 1
    present = 0
    for content_id, *_ in books:
        if content_id.startswith(FILE_SCHEME):
            path = root / content_id[len(FILE_SCHEME) :]
        else:
            path = root / ".kobo" / "kepub" / content_id
        try:
            os.stat(path)
            present += 1
        except OSError:
            pass
    return {"books": len(books), "chapters": len(chapters), "sidecars": sidecars, "files": present}


def main() -> None:
    started = time.perf_counter()
    counts = floor(Path(sys.argv[1]))
    print(json.dumps({**counts, "work_s": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
