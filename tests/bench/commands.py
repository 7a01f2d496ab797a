"""The bench's user-facing numbers: whole commands in their own processes, as ratios to the floor.

Every measure runs ``kksync`` (or the floor program) as a subprocess, so start-up and imports are
counted exactly as a person or the KOReader plugin pays them, and each process's own peak RSS
(``VmHWM``) is read while it runs. Times are medians of ``repeats`` runs, except the first sync,
which can happen only once per device.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.device import DeviceLayout
from adapters.koreader.library import SidecarLibrary
from tests.bench import daemon_rss
from tests.bench.phases import REPO_ROOT, _high_water_mib, _kksync_command

Result = dict[str, Any]

DEBOUNCE_S = 0.5  # the daemon's quiet spell before it syncs a batch (watcher.Debouncer)
DAEMON_CHANGES = 10
LIST_CALLS = 10
CHANGE_TIMEOUT_S = 60.0
IDLE_CPU_S = 1.5  # the daemon counts as idle once its CPU time stands still this long


def run_command(
    arguments: Sequence[str], *, check: bool = True, env: dict[str, str] | None = None
) -> tuple[float, float | None, bytes]:
    """(wall seconds, peak RSS MiB, stdout) of one subprocess (emulated: qemu's RSS, not the guest's)."""
    environment = env or {name: value for name, value in os.environ.items() if not name.startswith("KKSYNC_")}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(arguments, stdout=stdout, stderr=stderr, env=environment, cwd=REPO_ROOT)
        status = Path(f"/proc/{process.pid}/status")
        peak: float | None = None
        while process.poll() is None:
            peak = _high_water_mib(status) or peak
            time.sleep(0.005)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if check and process.returncode not in (0, 2):
        raise RuntimeError(f"{' '.join(arguments)} exited {process.returncode}: {errors.decode()[-1000:]}")
    return wall, peak, output


def measured(arguments: Sequence[str], repeats: int, env: dict[str, str] | None = None) -> Result:
    runs = [run_command(arguments, env=env) for _ in range(repeats)]
    peaks = [peak for _, peak, _ in runs if peak is not None]
    return {
        "wall_s": statistics.median(wall for wall, _, _ in runs),
        "peak_rss_mib": max(peaks) if peaks else None,
    }


def work_seconds(arguments: Sequence[str], repeats: int) -> float:
    """The median ``work_s`` a program prints as JSON: its work after start-up and imports."""
    runs = []
    for _ in range(repeats):
        output = run_command(arguments)[2]
        runs.append(float(json.loads(output.decode().strip().splitlines()[-1])["work_s"]))
    return statistics.median(runs)


def command_phases(layout: DeviceLayout, repeats: int) -> Result:
    """Floor, start-up, plan, first sync, no-op sync and status of one device, in that order."""
    device = str(layout.root)
    kksync = _kksync_command()
    results: Result = {
        "python_pass": measured([sys.executable, "-c", "pass"], repeats),
        "floor": measured([sys.executable, "-m", "tests.bench.floor", device], repeats),
        "startup": measured([*kksync, "--help"], repeats),
        "plan": measured([*kksync, "status", "--json", "--device", device], 1),
        "first_sync": measured([*kksync, "sync", "--json", "--device", device], 1),
        "noop_sync": measured([*kksync, "sync", "--json", "--device", device], repeats),
        "status": measured([*kksync, "status", "--json", "--device", device], repeats),
    }
    in_process = [sys.executable, "-m", "tests.bench.in_process", device]
    results["work_only"] = {
        "floor_s": work_seconds([sys.executable, "-m", "tests.bench.floor", device], repeats),
        "noop_sync_s": work_seconds([*in_process, "sync"], repeats),
        "status_s": work_seconds([*in_process, "plan"], repeats),
    }
    work = results["work_only"]
    work["noop_sync_x_floor"] = work["noop_sync_s"] / work["floor_s"]
    work["status_x_floor"] = work["status_s"] / work["floor_s"]
    floor = results["floor"]["wall_s"]
    results["ratios"] = {
        name: results[name]["wall_s"] / floor
        for name in ("startup", "plan", "first_sync", "noop_sync", "status")
    }
    results["ratios"]["startup_vs_python"] = results["startup"]["wall_s"] / results["python_pass"]["wall_s"]
    results["peak_rss_mib"] = max(
        (section["peak_rss_mib"] or 0.0)
        for name, section in results.items()
        if name not in ("ratios", "python_pass", "floor", "work_only")
    )
    return results


def daemon_phase(layout: DeviceLayout, changes: int = DAEMON_CHANGES) -> Result:
    """Start the daemon, wait until its first sync is done, then time ``changes`` Nickel writes.

    Each change moves one book ahead in Nickel's database (a newer read, 95 %, no span) and is
    timed from its commit to the moment that book's sidecar holds the pulled progress, minus
    the debounce. The daemon's peak RSS is read from ``/proc`` at the end.
    """
    folder = Path(tempfile.mkdtemp(prefix="kksync-bench-"))
    log_file = folder / "daemon.log"
    command = [*_kksync_command(), "daemon", "--device", str(layout.root), "--socket", str(folder / "s")]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("KKSYNC_")}
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--log-file", str(log_file)], env=environment, cwd=REPO_ROOT, stdout=subprocess.DEVNULL
    )
    try:
        idle_s = _wait_idle(process.pid) - started
        listing = _time_library_list(folder / "s", LIST_CALLS)
        books = _books_to_move(layout, changes)
        latencies = []
        for book, sidecars in books:
            latencies.append(_time_one_change(layout, book, sidecars))
            time.sleep(2 * DEBOUNCE_S)  # let the daemon see its own write go by before the next change
        peak = _high_water_mib(Path(f"/proc/{process.pid}/status"))
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    measured_ms = [1000 * max(latency - DEBOUNCE_S, 0.0) for latency in latencies if latency is not None]
    return {
        "start_to_idle_s": idle_s,
        "changes": len(latencies),
        "synced": len(measured_ms),
        "latency_p50_ms": statistics.median(measured_ms) if measured_ms else None,
        "latency_max_ms": max(measured_ms) if measured_ms else None,
        "debounce_s": DEBOUNCE_S,
        **listing,
        "peak_rss_mib": peak,
    }


def _time_library_list(socket_path: Path, calls: int) -> Result:
    """``library.list`` as the plugin pays it: request sent to the whole answer parsed, on one connection."""
    times, books = [], 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(CHANGE_TIMEOUT_S)
        connection.connect(str(socket_path))
        with connection.makefile("rb") as answers:
            for number in range(1, calls + 1):
                request = {"jsonrpc": "2.0", "id": number, "method": "library.list"}
                started = time.perf_counter()
                connection.sendall(json.dumps(request).encode() + b"\n")
                answer = json.loads(answers.readline())
                times.append(1000 * (time.perf_counter() - started))
                books = len(answer["result"]["books"])
    return {
        "list_books": books,
        "list_calls": calls,
        "list_p50_ms": statistics.median(times),
        "list_max_ms": max(times),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_idle(pid: int, timeout: float = 1800.0) -> float:
    """When the process's CPU time stopped moving for ``IDLE_CPU_S`` (perf_counter seconds)."""
    deadline = time.perf_counter() + timeout
    last, still_since = -1.0, time.perf_counter()
    time.sleep(1.0)
    while time.perf_counter() < deadline:
        used = _cpu_seconds(pid)
        now = time.perf_counter()
        if used != last:
            last, still_since = used, now
        elif now - still_since >= IDLE_CPU_S:
            return still_since
        time.sleep(0.1)
    raise TimeoutError("the daemon never went idle")


def _books_to_move(layout: DeviceLayout, count: int) -> list[tuple[str, list[Path]]]:
    """Readable books with a sidecar, both sides short of 90 %: a 95 % Nickel read is a pull."""
    koreader = SidecarLibrary(layout)
    with closing(sqlite3.connect(layout.database)) as db:
        rows = db.execute(
            "SELECT ContentID FROM content WHERE ContentType = 6 AND ReadStatus = 1"
            " AND coalesce(___PercentRead, 0) < 90 ORDER BY ContentID"
        ).fetchall()
    chosen = []
    for (book_id,) in rows:
        document = layout.book_host_path(book_id)
        if not document.is_file():
            continue
        state = koreader.read(document)
        if state.sidecar is None or (state.percent_finished or 0) >= 0.9 or state.status != "reading":
            continue
        chosen.append((book_id, koreader.sidecar_candidates(document)))
        if len(chosen) == count:
            break
    return chosen


def _time_one_change(layout: DeviceLayout, book_id: str, sidecars: list[Path]) -> float | None:
    before = {path: _content(path) for path in sidecars}
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with closing(sqlite3.connect(layout.database, timeout=30)) as db, db:
        db.execute(
            "UPDATE content SET ___PercentRead = 95, ReadStatus = 1, ChapterIDBookmarked = NULL,"
            " DateLastRead = ? WHERE ContentID = ? AND ContentType = 6",
            (when, book_id),
        )
    changed_at = time.perf_counter()
    while time.perf_counter() - changed_at < CHANGE_TIMEOUT_S:
        if any(_content(path) != before[path] for path in sidecars):
            return time.perf_counter() - changed_at
        time.sleep(0.002)
    return None


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def emulated_phase(device: DeviceLayout, daemon_books: int) -> Result | None:
    """Start-up, a no-op sync and the daemon's memory under the ARM bundle in qemu (labelled emulated).

    Needs ``dist/kksync-kobo-*.zip`` and the armhf sysroot that ``make test-kobo`` builds; nothing
    is built here. The bundle is unzipped as onto a Kobo and its own launcher runs python through
    ``qemu-arm-static``. Memory is the 32-bit guest's (``daemon_rss``), on ``daemon_books`` books.
    """
    bundles = sorted((REPO_ROOT / "dist").glob("kksync-kobo-*.zip"))
    qemu = shutil.which("qemu-arm-static")
    sysroot = REPO_ROOT / "build" / "kobo" / "qemu-sysroot"
    if not bundles or qemu is None:
        return None
    label = "emulated (qemu-arm-static; not a Kobo's speed)"
    if not (sysroot / "lib" / "ld-linux-armhf.so.3").exists():
        return {"label": label, "bundle": bundles[-1].name, "error": f"no armhf sysroot in {sysroot}"}
    env = daemon_rss.emulated_environment(qemu, sysroot)
    folder = Path(tempfile.mkdtemp(prefix="kkb", dir="/tmp"))  # short: the daemon's socket path
    try:
        with daemon_rss.unpacked_launcher(bundles[-1], folder) as launcher:
            kksync = [str(launcher)]
            sync = [*kksync, "sync", "--json", "--device", str(device.root)]
            run_command(sync, env=env)  # the first, full sync
            return {
                "label": label,
                "bundle": bundles[-1].name,
                "startup": measured([*kksync, "--help"], 3, env=env),
                "noop_sync": measured(sync, 3, env=env),
                "daemon_memory": daemon_rss.measure(daemon_books, launcher, env, True, folder / "daemon"),
            }
    except (OSError, RuntimeError, zipfile.BadZipFile) as error:
        return {"label": label, "bundle": bundles[-1].name, "error": str(error)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
