"""Resident memory of ``kksync daemon`` serving a generated Kobo (issue 12: ≤ 60 MB on the device).

Run: ``.venv/bin/python -m tests.bench.daemon_rss [BOOKS]`` (default 500). Prints the RSS after
start-up and the first sync, and after a ``library.list`` and a full ``sync.run`` over RPC, with
the peak (VmHWM). Numbers are for this machine's Python (64-bit here; a 32-bit ARM build of the
same code is smaller), which is why they are printed, not asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.device_builder import build_device

KKSYNC = Path(sys.executable).with_name("kksync")


def status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def call(path: Path, method: str) -> Any:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(900)
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


def main(books: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kkm", dir="/tmp"))
    try:
        root = folder / "kobo"
        build_device(root, books)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KKSYNC_")}
        env["XDG_RUNTIME_DIR"] = str(folder)
        sock = folder / "s.sock"
        arguments = [str(KKSYNC), "daemon", "--device", str(root), "--socket", str(sock)]
        process = subprocess.Popen([*arguments, "--log-file", str(folder / "log")], env=env)
        try:
            while not sock.exists():
                time.sleep(0.1)
            call(sock, "sync.plan")  # answered once the first sync has freed the worker
            time.sleep(2)
            print(f"{books} books, after the first sync: RSS {status_mib(process.pid, 'VmRSS'):.1f} MiB")
            call(sock, "library.list")
            call(sock, "sync.run")
            time.sleep(2)
            rss, peak = status_mib(process.pid, "VmRSS"), status_mib(process.pid, "VmHWM")
            print(f"after library.list + sync.run: RSS {rss:.1f} MiB, peak {peak:.1f} MiB")
        finally:
            process.terminate()
            process.wait(30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
