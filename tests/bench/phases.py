"""The measured phases of the benchmark, each through the real container or the real adapters.

Every phase returns a flat-ish ``dict`` of numbers (JSON-ready): keys end in their unit
(``_s``, ``_ms``, ``_mib``, ``_per_s``) or are plain counts. Each sync phase gets a fresh
container, as each ``kksync`` run would, so no cache carries over from the phase before.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.device import DeviceLayout
from adapters.epub.content import EpubContent
from adapters.koreader.lua_sandbox import LuaSandbox
from adapters.koreader.lua_writer import render_settings_file
from application.ports import BookDocument
from application.records import BookKind, FileState
from application.reports import RunReport
from application.service import NobodyToAsk
from application.settings import Settings
from entrypoints.container import Container, build_container
from tests.bench.measure import (
    MIB,
    CallTimer,
    FileChanges,
    StatementCounter,
    fingerprint,
    peak_rss_mib,
    timed,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
MIN_THROUGHPUT_SECONDS = 0.5  # repeat small workloads until the clock has something to measure

RSS_SAMPLE_S = 0.02

Result = dict[str, Any]


def plan_phase(layout: DeviceLayout) -> Result:
    """``plan()`` (what ``kksync status`` and ``sync --dry-run`` run) over the whole library."""
    container = _container(layout)
    counter = StatementCounter(container.kobo_library().engine)
    with timed() as elapsed:
        report = container.service().plan()
    counter.detach()
    container.kobo_library().close()
    books = len(report.books)
    return {
        "books": books,
        "time_s": elapsed.seconds,
        "per_book_ms": 1000 * elapsed.seconds / max(books, 1),
        "kobo_queries": counter.total,
        "kobo_queries_by_verb": dict(counter.by_verb),
        "failed": report.failed,
        "decisions": decision_counts(report),
        "peak_rss_mib": peak_rss_mib(),
    }


def sync_phase(layout: DeviceLayout) -> Result:
    """One ``sync_all`` as a batch run does it, with what it wrote, found by hashing every file."""
    before = fingerprint(layout.root)
    container = _container(layout)
    kobo = container.kobo_library()
    counter = StatementCounter(kobo.engine)
    backups = CallTimer()
    kobo.backup = backups.wrap(kobo.backup)  # type: ignore[method-assign]
    with timed() as elapsed:
        report = container.service().sync_all(NobodyToAsk())
    counter.detach()
    kobo.close()
    after = fingerprint(layout.root)
    changes = FileChanges.between(before, after)
    books = len(report.books)
    return {
        "books": books,
        "time_s": elapsed.seconds,
        "per_book_ms": 1000 * elapsed.seconds / max(books, 1),
        "pulled": report.pulled,
        "pushed": report.pushed,
        "skipped": report.skipped,
        "failed": report.failed,
        "kobo_statements": counter.total,
        "kobo_writes": counter.writes,
        "kobo_commits": counter.commits,
        "backups": backups.calls,
        "backup_s": backups.seconds,
        "sidecars_written": changes.count(_is_sidecar),
        "database_written": changes.count(lambda name: name == ".kobo/KoboReader.sqlite") > 0,
        "ledger_written": changes.count(lambda name: name.endswith("ledger.sqlite")) > 0,
        "files_hashed": len(after),
        "files_added": len(changes.added),
        "files_changed": len(changes.changed),
        "files_removed": len(changes.removed),
        "nothing_changed": changes.none,
        "changed_files_sample": list((changes.added + changes.changed + changes.removed)[:5]),
        "peak_rss_mib": peak_rss_mib(),
    }


def status_cli_phase(layout: DeviceLayout) -> Result:
    """``kksync status --json`` in its own process: start-up, imports, plan and JSON rendering."""
    command = [*_kksync_command(), "status", "--json", "--device", str(layout.root)]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("KKSYNC_")}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        with timed() as elapsed:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment, cwd=REPO_ROOT)
            peak_rss = _wait_measuring(process)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    result: Result = {
        "wall_s": elapsed.seconds,
        "exit_code": process.returncode,
        "peak_rss_mib": peak_rss,
        "stdout_kib": len(output) / 1024,
    }
    try:
        result["books"] = len(json.loads(output)["books"])
    except (ValueError, KeyError, TypeError):
        result["books"] = None
        result["stderr_tail"] = errors.decode("utf-8", "replace")[-2000:]
    return result


def _wait_measuring(process: subprocess.Popen[bytes]) -> float | None:
    """Wait for the child, sampling its peak RSS (``VmHWM``) in MiB; None where there is no ``/proc``.

    ``ru_maxrss`` of a child cannot be used: Linux starts it from the parent's high-water mark.
    ``VmHWM`` belongs to the child's own address space, and is a high-water mark itself, so
    sampling every ``RSS_SAMPLE_S`` misses at most the child's last moments.
    """
    status = Path(f"/proc/{process.pid}/status")
    peak: float | None = None
    while process.poll() is None:
        peak = _high_water_mib(status) or peak
        time.sleep(RSS_SAMPLE_S)
    return peak


def _high_water_mib(status: Path) -> float | None:
    try:
        lines = status.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # reported in kB
    return None


def sidecar_phase(layout: DeviceLayout) -> Result:
    """Parsing sidecars in the Lua sandbox and rendering them back, from bytes already in memory."""
    files = sorted(path for path in layout.root.rglob("metadata.*.lua") if path.parent.name.endswith(".sdr"))
    texts = [(path, path.read_bytes()) for path in files]
    if not texts:
        return {"sidecars": 0}
    sandbox = LuaSandbox()
    tables = [sandbox.load_text(text, str(path)) for path, text in texts]  # warms the runtime up
    parsed, parse_seconds = _repeat(lambda: [sandbox.load_text(text, str(path)) for path, text in texts])
    headers = [_header(text) for _, text in texts]
    rendered, render_seconds = _repeat(
        lambda: [render_settings_file(table, header) for table, header in zip(tables, headers, strict=True)]
    )
    identical = sum(
        render_settings_file(table, header) == text
        for table, header, (_, text) in zip(tables, headers, texts, strict=True)
    )
    total_bytes = sum(len(text) for _, text in texts)
    return {
        "sidecars": len(texts),
        "mean_size_kib": total_bytes / len(texts) / 1024,
        "parse_per_s": parsed * len(texts) / parse_seconds,
        "parse_mib_per_s": parsed * total_bytes / parse_seconds / MIB,
        "serialize_per_s": rendered * len(texts) / render_seconds,
        "byte_identical_round_trips": identical,
    }


def epub_phase(layout: DeviceLayout) -> Result:
    """Opening every readable EPUB/kepub and converting one position in it, with a cold ``EpubContent``.

    The conversion is what a sync does for a book whose position moved: the span at a place in
    the middle chapter, its xpointer, where that xpointer lands, and the span's fraction.
    """
    container = _container(layout)
    books = container.kobo_library().books()
    container.kobo_library().close()
    paths = [
        book.file_path
        for book in books
        if book.kind in (BookKind.KEPUB, BookKind.EPUB) and book.file_state is FileState.READABLE
    ]
    content = EpubContent()
    with timed() as opening:
        documents = [content.open(path) for path in paths]
        spines = [len(document.chapter_map().chapters) for document in documents]
    with timed() as converting:
        landed = sum(_convert_middle(document) for document in documents)
    books_count = len(documents)
    seconds = opening.seconds + converting.seconds
    return {
        "books": books_count,
        "spine_items": sum(spines),
        "open_per_s": books_count / opening.seconds if opening.seconds else 0.0,
        "convert_per_s": books_count / converting.seconds if converting.seconds else 0.0,
        "open_and_convert_per_s": books_count / seconds if seconds else 0.0,
        "positions_resolved": landed,
    }


def plan_memory_phase(layout: DeviceLayout) -> Result:
    """Python heap high-water of one ``plan()`` under ``tracemalloc`` (slower, so timed apart)."""
    tracemalloc.start()
    try:
        container = _container(layout)
        with timed() as elapsed:
            report = container.service().plan()
        container.kobo_library().close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"books": len(report.books), "python_heap_peak_mib": peak / MIB, "time_s_traced": elapsed.seconds}


def decision_counts(report: RunReport) -> dict[str, int]:
    """``PULL``/``PUSH``/``SKIP:<reason>``/``FAILED`` -> number of books, most frequent first."""
    counts: Counter[str] = Counter()
    for book in report.books:
        decision = book.decision
        label = decision.transfer.value + (f":{decision.reason.value}" if decision.reason else "")
        counts["FAILED" if book.failed else label] += 1
    return dict(counts.most_common())


def _container(layout: DeviceLayout) -> Container:
    return build_container(layout.root, Settings())


def _kksync_command() -> list[str]:
    """The installed ``kksync`` script beside this interpreter, else the same entry point via ``-c``."""
    script = Path(sys.executable).with_name("kksync")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from entrypoints.cli.app import main; main()"]


def _is_sidecar(name: str) -> bool:
    return Path(name).parent.name.endswith(".sdr") and name.endswith(".lua")


def _header(text: bytes) -> str:
    """The path in a sidecar's ``-- <path>`` first line, as KOReader wrote it."""
    first = text.split(b"\n", 1)[0]
    return first.removeprefix(b"-- ").decode("utf-8", "surrogateescape")


def _repeat(work: Callable[[], object]) -> tuple[int, float]:
    """Run ``work`` until at least ``MIN_THROUGHPUT_SECONDS`` passed; (runs, seconds)."""
    runs, seconds = 0, 0.0
    while seconds < MIN_THROUGHPUT_SECONDS:
        with timed() as elapsed:
            work()
        runs, seconds = runs + 1, seconds + elapsed.seconds
    return runs, seconds


def _convert_middle(document: BookDocument) -> bool:
    """Convert a position in the middle text chapter; True when its xpointer resolves exactly."""
    linear = [item for item in document.spine if item.linear]
    zip_path = linear[len(linear) // 2].zip_path
    span = document.span_at(zip_path, 0.5) if document.has_spans() else None
    xpointer = document.span_xpointer(zip_path, span) if span else document.chapter_xpointer(zip_path)
    target = document.locate(xpointer) if xpointer else None
    if span:
        fraction = document.span_fraction(zip_path, span)
        return target is not None and target.resolved and fraction is not None and math.isfinite(fraction)
    return target is not None and target.resolved
