"""Resident memory of ``kksync daemon`` serving a generated Kobo (issue 12: ≤ 60 MB on the device).

    .venv/bin/python -m tests.bench.daemon_rss [BOOKS]                 # this machine's Python
    .venv/bin/python -m tests.bench.daemon_rss --emulated ZIP [BOOKS]  # the Kobo bundle, 32-bit ARM

Prints the RSS after start-up and the first sync, after a ``library.list`` and a full ``sync.run``
over RPC, and the peak. Numbers are printed, not asserted.

``--emulated`` runs the bundle's launcher under ``qemu-arm-static`` (sysroot: ``make test-kobo``
builds it in build/kobo/qemu-sysroot). The process is then qemu, whose own RSS includes its
translator and code cache; what the Kobo would hold is the ARM program's memory alone. qemu is told
to place the 32-bit guest at host address 4 GiB (``-B``), so the guest's pages are exactly the host
mappings inside [4 GiB, 8 GiB): their summed ``Rss`` from ``/proc/PID/smaps`` is the guest's
resident memory (sampled every 0.25 s for the peak). Same libraries, same pointer size, same
allocator as on the Kobo; only the kernel's page accounting is the host's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from entrypoints.cli.install import restore_modes
from tests.bench.device_builder import build_device

KKSYNC = Path(sys.executable).with_name("kksync")
REPO = Path(__file__).resolve().parents[2]
GUEST_BASE = 1 << 32  # qemu-arm-static -B: the guest's 4 GiB address space starts here in the host
NATIVE_TIMEOUT = 900.0
EMULATED_TIMEOUT = 3600.0


def status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def guest_rss_mib(pid: int) -> float:
    """The resident memory of the 32-bit program qemu runs: host mappings inside the guest window."""
    total_kib = 0
    inside = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=1)[0] if line.strip() else ""
        if head.endswith(":"):
            if inside and head == "Rss:":
                total_kib += int(line.split()[1])
        elif "-" in head:  # a mapping's header: start-end perms offset dev inode path
            start = int(head.partition("-")[0], 16)
            inside = GUEST_BASE <= start < 2 * GUEST_BASE
    return total_kib / 1024


class PeakSampler:
    """The highest value a reading reaches while sampled in the background (for the emulated guest)."""

    def __init__(self, read: Callable[[], float], every: float = 0.25) -> None:
        self.read, self.every, self.peak = read, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.peak = max(self.peak, self.read())
            except (OSError, ValueError):
                return  # the process is gone


def call(path: Path, method: str, timeout: float) -> Any:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    client.connect(str(path))
    client.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method}).encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = client.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    client.close()
    return json.loads(data)


@contextmanager
def unpacked_launcher(bundle: Path, folder: Path) -> Iterator[Path]:
    """The bundle's ``kksync`` launcher, unzipped as onto a Kobo's root (mode bits restored)."""
    root = folder / "onboard"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root)
        restore_modes(archive, root)
    yield root / ".adds" / "kksync" / "bin" / "kksync"


def measure(books: int, launcher: Path, env: dict[str, str], emulated: bool, folder: Path) -> dict[str, Any]:
    """The daemon's memory on a generated ``books``-book Kobo, after its first sync and after more work."""
    root = folder / "kobo"
    build_device(root, books)
    env = {**env, "XDG_RUNTIME_DIR": str(folder)}
    sock = folder / "s.sock"
    timeout = EMULATED_TIMEOUT if emulated else NATIVE_TIMEOUT
    arguments = [str(launcher), "daemon", "--device", str(root), "--socket", str(sock)]
    started = time.perf_counter()
    process = subprocess.Popen([*arguments, "--log-file", str(folder / "log")], env=env)

    def rss() -> float:
        return guest_rss_mib(process.pid) if emulated else status_mib(process.pid, "VmRSS")

    try:
        with PeakSampler(rss) as sampler:
            while not sock.exists():
                if process.poll() is not None:
                    raise RuntimeError(f"the daemon exited with {process.returncode}; see {folder / 'log'}")
                time.sleep(0.1)
            call(sock, "sync.plan", timeout)  # answered once the first sync has freed the worker
            first = time.perf_counter() - started
            time.sleep(2)
            after_first = rss()
            call(sock, "library.list", timeout)
            call(sock, "sync.run", timeout)
            time.sleep(2)
            after_more = rss()
        peak = sampler.peak if emulated else status_mib(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(60)
    return {
        "label": "ARM guest (qemu-arm-static)" if emulated else "this machine",
        "books": books,
        "start_and_first_sync_s": first,
        "rss_after_first_sync_mib": after_first,
        "rss_after_list_and_sync_mib": after_more,
        "peak_rss_mib": max(peak, after_more),
    }


def emulated_environment(qemu: str, sysroot: Path) -> dict[str, str]:
    """A clean environment whose bundle launcher runs python through qemu, guest placed at 4 GiB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KKSYNC_", "PYTHON"))}
    env["KKSYNC_LAUNCH_WRAPPER"] = f"{qemu} -B {GUEST_BASE:#x} -L {sysroot}"
    return env


def show(found: dict[str, Any]) -> None:
    print(
        f"{found['books']} books, {found['label']}:"
        f" start + first sync {found['start_and_first_sync_s']:.1f} s,"
        f" then RSS {found['rss_after_first_sync_mib']:.1f} MiB;"
        f" after library.list + sync.run {found['rss_after_list_and_sync_mib']:.1f} MiB;"
        f" peak {found['peak_rss_mib']:.1f} MiB"
    )


def main(argv: list[str] | None = None) -> None:
    summary = __doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m tests.bench.daemon_rss", description=summary)
    parser.add_argument("books", nargs="?", type=int, default=500)
    parser.add_argument("--emulated", type=Path, metavar="ZIP", help="the Kobo bundle to run under qemu")
    parser.add_argument("--sysroot", type=Path, default=REPO / "build" / "kobo" / "qemu-sysroot")
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="kkm", dir="/tmp"))  # short: socket paths stay < 108 bytes
    try:
        if options.emulated is None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("KKSYNC_")}
            show(measure(options.books, KKSYNC, env, False, folder))
            return
        qemu = shutil.which("qemu-arm-static")
        if qemu is None or not (options.sysroot / "lib" / "ld-linux-armhf.so.3").exists():
            raise SystemExit("needs qemu-arm-static and the armhf sysroot (make test-kobo builds it)")
        with unpacked_launcher(options.emulated, folder) as launcher:
            show(measure(options.books, launcher, emulated_environment(qemu, options.sysroot), True, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
