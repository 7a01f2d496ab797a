"""One plan or sync timed inside its own process, after the imports: kksync's work alone.

    python -m tests.bench.in_process DEVICE plan|sync

Prints one JSON line with ``work_s`` (the use case's wall time) and ``books``. The bench compares
it with the floor program's own ``work_s``, so start-up (issue 13's point 1) stays out of it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from application.service import NobodyToAsk
from application.settings import Settings
from entrypoints.container import build_container


def main() -> None:
    device, what = Path(sys.argv[1]), sys.argv[2]
    container = build_container(device, Settings())
    service = container.service()
    started = time.perf_counter()
    report = service.plan() if what == "plan" else service.sync_all(NobodyToAsk())
    work = time.perf_counter() - started
    container.kobo_library().close()
    print(json.dumps({"work_s": work, "books": len(report.books), "failed": report.failed}))


if __name__ == "__main__":
    main()
