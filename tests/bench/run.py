"""``make bench``: build realistic Kobos and time kksync on them, as ratios to a floor measured alongside.

    python -m tests.bench.run [--sizes 500,2000,8000] [--output bench-output] [--seed 2026]
    python -m tests.bench.run --books 2000 --detail-only     # the in-process detail phases alone

For every size: the floor program (tests/bench/floor.py), ``kksync --help``, a first ``status``
(plan), the first sync, the no-op sync, ``status`` again, each in its own process with its peak
RSS, then the daemon's per-book latency. The in-process detail phases (SQL statements, files
written, sidecar and EPUB throughput) run on the smallest size. When an ARM bundle and
``qemu-arm-static`` exist, start-up and a 200-book no-op run emulated, and the daemon's memory on
500 books as the 32-bit ARM guest holds it, labelled as such.

Speed is reported, never asserted: the numbers go to a table on stdout and to
``<output>/results.json``; the devices stay in ``<output>/device-<size>`` for a look afterwards
(rebuilt on the next run). The exit status is non-zero only when the run itself shows a fault:
a book failed, the second sync changed a file, or ``kksync status`` did not list every book.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from rich.console import Console

from adapters.device import DeviceLayout
from tests.bench import commands, phases
from tests.bench.device_builder import TEMPLATE_CHAPTERS, BuiltDevice, build_device
from tests.bench.measure import MIB, peak_rss_mib, timed
from tests.bench.report import TABLE_WIDTH, machine_info, ratios_table, show, write_json

log = logging.getLogger("tests.bench")

DEFAULT_BOOKS = 2000
DEFAULT_SIZES = (500, 2000, 8000)
EMULATED_BOOKS = 200
EMULATED_DAEMON_BOOKS = 500  # issue 12's memory budget is for a 500-book library
REPEATS = 3
DEFAULT_OUTPUT = phases.REPO_ROOT / "bench-output"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--books", type=_positive, default=DEFAULT_BOOKS, help="books on the device")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="folder for device/ and results.json"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated library")
    parser.add_argument("--quiet", action="store_true", help="no table on stdout (results.json only)")
    parser.add_argument(
        "--sizes", type=_sizes, default=None, help="comma-separated library sizes (default 500,2000,8000)"
    )
    parser.add_argument("--detail-only", action="store_true", help="only the in-process phases, on --books")
    return parser.parse_args(argv)


def run_sizes(sizes: tuple[int, ...], output: Path, seed: int = 2026) -> dict[str, Any]:
    """Every size's command and daemon numbers, the detail phases on the smallest, ``results.json``."""
    results: dict[str, Any] = {"machine": machine_info(), "sizes": {}}
    for books in sizes:
        layout = _built(output / f"device-{books}", books, seed)
        log.info("measuring commands on %d books", books)
        section = commands.command_phases(layout, REPEATS)
        log.info("measuring the daemon on %d books", books)
        section["daemon"] = commands.daemon_phase(layout)
        results["sizes"][str(books)] = section
        write_json(results, output / "results.json")  # each size kept as soon as it is measured
    detail = run(min(sizes), output / "detail", seed, write=False)
    results["detail"] = detail
    emulated = _emulated(output, seed)
    if emulated is not None:
        results["emulated"] = emulated
    results["faults"] = detail["faults"] + size_faults(results["sizes"])
    results["results_file"] = str(write_json(results, output / "results.json"))
    return results


def size_faults(sizes: dict[str, Any]) -> list[str]:
    found = []
    for books, section in sizes.items():
        daemon = section["daemon"]
        if daemon["synced"] < daemon["changes"]:
            found.append(
                f"{books} books: the daemon synced {daemon['synced']} of {daemon['changes']} changes"
            )
    return found


def _built(root: Path, books: int, seed: int) -> DeviceLayout:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        pool.submit(build_and_summarize, root, books, seed).result()
    return DeviceLayout(root)


def _emulated(output: Path, seed: int) -> dict[str, Any] | None:
    if not (phases.REPO_ROOT / "dist").is_dir():
        return None
    root = output / f"device-{EMULATED_BOOKS}-arm"
    layout = _built(root, EMULATED_BOOKS, seed)
    found = commands.emulated_phase(layout, EMULATED_DAEMON_BOOKS)
    if found is not None:
        found["books"] = EMULATED_BOOKS
    return found


def run(books: int, output: Path, seed: int = 2026, *, write: bool = True) -> dict[str, Any]:
    """Build the device, run every phase in order, write ``results.json``; return the results."""
    results: dict[str, Any] = {"machine": machine_info()}
    root = output / "device"
    # Built in a child process, so this process's peak RSS belongs to the measured phases alone.
    with timed() as building, ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        results["library"] = pool.submit(build_and_summarize, root, books, seed).result()
    results["build"] = {"time_s": building.seconds, "rss_before_phases_mib": peak_rss_mib()}
    layout = DeviceLayout(root)
    steps = (
        ("plan", phases.plan_phase),
        ("first_sync", phases.sync_phase),
        ("second_sync", phases.sync_phase),
        ("status_cli", phases.status_cli_phase),
        ("sidecars", phases.sidecar_phase),
        ("epub", phases.epub_phase),
        ("plan_memory", phases.plan_memory_phase),  # last: tracemalloc's own memory would skew RSS
    )
    for name, phase in steps:
        log.info("measuring %s", name)
        results[name] = phase(layout)
    results["faults"] = faults(results)
    if write:
        results["results_file"] = str(write_json(results, output / "results.json"))
    return results


def build_and_summarize(root: Path, books: int, seed: int) -> dict[str, Any]:
    """Build the device and describe it (run in a child process)."""
    return library_summary(build_device(root, books, seed))


def library_summary(device: BuiltDevice) -> dict[str, Any]:
    """What was built: counts by source and kind, both sides' progress, and the database size."""
    books = device.books
    with closing(sqlite3.connect(device.layout.database)) as connection:
        rows = connection.execute("SELECT count(*) FROM content").fetchone()[0]
    return {
        "books": len(books),
        "by_source": dict(Counter(book.source.value for book in books).most_common()),
        "by_kind": dict(Counter(book.kind.value for book in books).most_common()),
        "with_kobo_progress": device.kobo_progress,
        "with_koreader_sidecar": device.koreader_sidecars,
        "file_missing": sum(1 for book in books if not book.file_present),
        "distinct_book_files": len(TEMPLATE_CHAPTERS),
        "nickel_content_rows": rows,
        "database_mib": device.layout.database.stat().st_size / MIB,
    }


def faults(results: dict[str, Any]) -> list[str]:
    """What in the results is wrong rather than slow; empty for a healthy run."""
    found = []
    books = results["library"]["books"]
    for phase in ("plan", "first_sync", "second_sync"):
        if results[phase]["failed"]:
            found.append(f"{phase}: {results[phase]['failed']} book(s) failed")
    if not results["second_sync"]["nothing_changed"]:
        found.append(f"second sync changed files: {results['second_sync']['changed_files_sample']}")
    if results["status_cli"]["exit_code"] != 0 or results["status_cli"]["books"] != books:
        found.append(
            f"kksync status exited {results['status_cli']['exit_code']} "
            f"listing {results['status_cli']['books']} of {books} books"
        )
    return found


def verdict(results: dict[str, Any]) -> str:
    """One line on the second sync, the check a person reads first."""
    second = results["second_sync"]
    state = "byte-for-byte unchanged" if second["nothing_changed"] else "CHANGED"
    return (
        f"Second sync: {second['books']} books in {second['time_s']:.2f} s; database, sidecars, ledger "
        f"and books {state} ({second['files_hashed']} files hashed before and after)."
    )


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(width=TABLE_WIDTH)
    if arguments.detail_only:
        console.print(f"Building a Kobo with {arguments.books} books in {arguments.output / 'device'} …")
        results = run(arguments.books, arguments.output, arguments.seed)
        if not arguments.quiet:
            show(results, console)
            console.print(verdict(results), highlight=False)
            console.print(f"Results written to {results['results_file']}", highlight=False)
    else:
        sizes = arguments.sizes or DEFAULT_SIZES
        console.print(f"Measuring {', '.join(map(str, sizes))} books in {arguments.output} …")
        results = run_sizes(sizes, arguments.output, arguments.seed)
        if not arguments.quiet:
            show(results["detail"], console)
            console.print(verdict(results["detail"]), highlight=False)
            console.print(ratios_table(results))
            console.print(f"Results written to {results['results_file']}", highlight=False)
    for fault in results["faults"]:
        log.error("%s", fault)
    return 1 if results["faults"] else 0


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(_positive(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a comma-separated list of book counts") from None
    if not sizes:
        raise argparse.ArgumentTypeError("no size given")
    return sizes


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of books")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
