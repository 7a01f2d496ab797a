"""The Kobo bundle, unzipped into a scratch root and run under ``qemu-arm-static`` (``make test-kobo``).

What a Kobo would do with it: the launcher's ``--help``, ``kksync demo``, and the daemon answering the
plugin's calls over its Unix socket; plus the glibc rule on every ELF file and LuaJIT's ARM JIT.
Emulation is slow (tens of seconds per start), so timeouts are generous and every timing is printed
(``pytest -s``) for docs/kobo-bundle.md. Skipped when there is no bundle zip, no qemu-arm-static or no
armhf sysroot: ``make test`` stays fast on a bare clone; ``make test-kobo`` builds all three first.

Environment: KKSYNC_KOBO_BUNDLE (the zip; without it the module skips), KKSYNC_KOBO_SYSROOT (default:
build/kobo/qemu-sysroot).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.cli.install import restore_modes
from tests.e2e.rpc.test_daemon_rpc import move_pride_forward_in_nickel
from tests.fixtures import KOBO_FW438_DATABASE
from tools.kobo_bundle.checks import bundle_problems, version_text

REPO = Path(__file__).resolve().parents[2]
EMULATED_TIMEOUT = 900.0  # seconds; one emulated start is ~20-60 s on a loaded 2-core machine
PRIDE = "0RDTATJQNHSQ0"
PRIDE_PATH = f"/mnt/onboard/.kobo/kepub/{PRIDE}"


def find_bundle() -> Path | None:
    """The zip named by KKSYNC_KOBO_BUNDLE: only ``make test-kobo`` sets it, so ``make test`` stays fast
    even on a machine where a bundle was built."""
    named = os.environ.get("KKSYNC_KOBO_BUNDLE")
    return Path(named) if named else None  # named but missing: the tests fail, they do not skip


BUNDLE = find_bundle()
SYSROOT = Path(os.environ.get("KKSYNC_KOBO_SYSROOT", REPO / "build" / "kobo" / "qemu-sysroot"))
QEMU = shutil.which("qemu-arm-static")

pytestmark = [
    pytest.mark.skipif(
        BUNDLE is None, reason="no bundle in KKSYNC_KOBO_BUNDLE: `make test-kobo` builds one and sets it"
    ),
    pytest.mark.skipif(QEMU is None, reason="qemu-arm-static is not installed (Debian: qemu-user-static)"),
    pytest.mark.skipif(
        not (SYSROOT / "lib" / "ld-linux-armhf.so.3").exists(),
        reason=f"no armhf sysroot at {SYSROOT}: run `make test-kobo`",
    ),
]

TIMINGS: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def print_timings() -> Iterator[None]:
    yield
    print("\n[test-kobo] measurements")
    for name, value in TIMINGS.items():
        print(f"[test-kobo]   {name:<34} {value}")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A short folder under /tmp: Unix socket paths must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="kkq", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def kobo_root(scratch: Path) -> Path:
    """The bundle unzipped as onto a Kobo's root."""
    assert BUNDLE is not None
    root = scratch / "onboard"
    with zipfile.ZipFile(BUNDLE) as archive:
        archive.extractall(root)
        restore_modes(archive, root)  # zipfile drops the mode bits: as unzip and kksync install do
    files = [p for p in root.rglob("*") if p.is_file()]
    TIMINGS["zip size"] = f"{BUNDLE.stat().st_size / 2**20:.1f} MiB"
    TIMINGS["unpacked size"] = f"{sum(p.stat().st_size for p in files) / 2**20:.1f} MiB"
    TIMINGS["files"] = str(len(files))
    return root


def launcher(root: Path) -> Path:
    return root / ".adds" / "kksync" / "bin" / "kksync"


def emulated_env(scratch: Path) -> dict[str, str]:
    """A clean environment whose launcher runs python through qemu with the armhf sysroot."""
    runtime = scratch / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KKSYNC_", "PYTHON"))}
    env.update(
        KKSYNC_LAUNCH_WRAPPER=f"{QEMU} -L {SYSROOT}",
        XDG_RUNTIME_DIR=str(runtime),
        HOME=str(scratch),
        KKSYNC_LOG="INFO",
    )
    return env


Ran = tuple[subprocess.CompletedProcess[str], float]


def kksync(root: Path, scratch: Path, *arguments: str | Path) -> Ran:
    started = time.monotonic()
    result = subprocess.run(
        ["sh", str(launcher(root)), *map(str, arguments)],
        env=emulated_env(scratch),
        capture_output=True,
        text=True,
        timeout=EMULATED_TIMEOUT,
        check=False,
    )
    return result, time.monotonic() - started


def test_every_elf_file_needs_at_most_glibc_2_17_and_the_tree_is_fat32_safe(kobo_root: Path) -> None:
    problems, newest = bundle_problems(kobo_root)
    TIMINGS["newest glibc symbol"] = version_text(newest)
    assert problems == []
    assert newest is not None and newest <= (2, 17)


def test_help_runs_from_the_launcher(kobo_root: Path, scratch: Path) -> None:
    result, seconds = kksync(kobo_root, scratch, "--help")
    TIMINGS["kksync --help (emulated)"] = f"{seconds:.1f} s"
    assert result.returncode == 0, result.stderr
    for command in ("sync", "daemon", "demo", "install"):
        assert command in result.stdout


PROBE = """
import json, shutil, sqlite3, sys, ctypes, zlib
import lxml.etree, dependency_injector.containers, lupa.luajit21 as lj
lua = lj.LuaRuntime()
kobo = sqlite3.connect(sys.argv[1])
legacy = sqlite3.connect(":memory:")  # Nickel's schema style: DEFAULT "a double-quoted literal"
legacy.execute('CREATE TABLE t (x TEXT DEFAULT "0000-00-00T00:00:00.000", y INT)')
legacy.execute("INSERT INTO t (y) VALUES (1)")
print(json.dumps({
    "arch": lua.eval("jit.arch"),
    "jit_on": lua.eval("(jit.status())"),
    "xml": lxml.etree.fromstring(b"<a><b>x</b></a>").findtext("b"),
    "sqlite": sqlite3.sqlite_version,
    "kobo_books": kobo.execute("SELECT COUNT(*) FROM content WHERE ContentType = 6").fetchone()[0],
    "kobo_integrity": kobo.execute("PRAGMA integrity_check").fetchone()[0],
    "quoted_default": legacy.execute("SELECT x FROM t").fetchone()[0],
    "quoted_literal": legacy.execute('SELECT "a double-quoted literal"').fetchone()[0],
}))
"""


def test_compiled_extensions_load_and_luajit_is_the_arm_jit(kobo_root: Path, scratch: Path) -> None:
    python = kobo_root / ".adds" / "kksync" / "python" / "bin" / "python3.11"
    database = scratch / "KoboReader.sqlite"  # the real fw 4.38 schema (DEFAULT "..." literals and all)
    shutil.copy2(KOBO_FW438_DATABASE, database)
    env = emulated_env(scratch)
    env["PYTHONHOME"] = str(python.parents[1])
    started = time.monotonic()
    result = subprocess.run(
        [str(QEMU), "-L", str(SYSROOT), str(python), "-c", PROBE, str(database)],
        env=env,
        capture_output=True,
        text=True,
        timeout=EMULATED_TIMEOUT,
        check=False,
    )
    TIMINGS["import extensions (emulated)"] = f"{time.monotonic() - started:.1f} s"
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["arch"] == "arm"
    assert facts["jit_on"] is True
    assert facts["xml"] == "x"
    assert facts["sqlite"].startswith("3.")
    assert facts["kobo_books"] > 0
    assert facts["kobo_integrity"] == "ok"
    assert facts["quoted_default"] == "0000-00-00T00:00:00.000"
    assert facts["quoted_literal"] == "a double-quoted literal"  # SQLite's default DQS, as Nickel's


@pytest.fixture(scope="module")
def demo_run(kobo_root: Path, scratch: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    device = scratch / "demo"
    result, seconds = kksync(kobo_root, scratch, "demo", device)
    TIMINGS["kksync demo (emulated)"] = f"{seconds:.1f} s"
    return device, result


def test_demo_builds_and_syncs_a_demo_kobo(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    device, result = demo_run
    assert result.returncode == 0, result.stderr
    assert "5 books" in result.stdout
    assert "byte-for-byte unchanged" in result.stdout
    assert (device / ".kobo" / "KoboReader.sqlite").is_file()
    assert (device / ".adds" / "kksync" / "ledger.sqlite").is_file()


class Client:
    """One JSON-RPC call per connection, as the plugin makes them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_id = 1

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        self.next_id += 1
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(EMULATED_TIMEOUT)
            connection.connect(str(self.path))
            connection.sendall(json.dumps(request).encode() + b"\n")
            with connection.makefile("rb") as reader:
                response = json.loads(reader.readline())
        assert response["id"] == request["id"]
        assert "error" not in response, response
        return response["result"]

    def timed(self, method: str, params: dict[str, Any] | None = None) -> Any:
        started = time.monotonic()
        result = self.call(method, params)
        TIMINGS[f"rpc {method} (emulated)"] = f"{time.monotonic() - started:.2f} s"
        return result


def wait_for_daemon(process: subprocess.Popen[bytes], client: Client, log: Path) -> None:
    deadline = time.monotonic() + EMULATED_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the daemon exited with {process.returncode}: {log.read_text()}")
        if client.path.exists():
            try:
                client.call("status")
                return
            except (OSError, ValueError):
                pass
        time.sleep(0.5)
    raise AssertionError(f"the daemon did not answer within {EMULATED_TIMEOUT} s: {log.read_text()}")


def test_daemon_round_trip_over_its_socket(
    kobo_root: Path, scratch: Path, demo_run: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    device, demo = demo_run
    assert demo.returncode == 0, demo.stderr
    socket_path, log = scratch / "d.sock", scratch / "daemon.log"
    arguments = ["daemon", "--device", str(device), "--socket", str(socket_path)]
    started = time.monotonic()
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            ["sh", str(launcher(kobo_root)), *arguments],
            env=emulated_env(scratch),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    client = Client(socket_path)
    try:
        wait_for_daemon(process, client, log)
        TIMINGS["daemon start to first answer"] = f"{time.monotonic() - started:.1f} s"

        status = client.timed("status")
        assert status["device"] == str(device)
        assert status["version"] not in ("", "unknown")

        books = {book["book_id"]: book for book in client.timed("library.list")["books"]}
        assert len(books) == 5
        assert books[PRIDE]["title"] == "Pride and Prejudice"

        run = client.timed("sync.run")
        assert run["summary"]["books"] == 5
        assert run["summary"]["failed"] == 0

        opened = client.timed("reader.opened", {"path": PRIDE_PATH})
        assert opened["book_id"] == PRIDE
        assert client.call("status")["open_books"] == [PRIDE]
        # Nickel moves on while the book is open: closing it syncs that one book, for real.
        move_pride_forward_in_nickel(device)
        closed = client.timed("reader.closed", {"path": PRIDE_PATH})
        assert (closed["book"]["book_id"], closed["book"]["decision"]) == (PRIDE, "PULL")
        assert closed["book"]["written"] is True
        assert client.call("status")["open_books"] == []
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=EMULATED_TIMEOUT)
    assert code == 0, log.read_text()
    assert not socket_path.exists()
