"""Where a daemon keeps its socket and lock, and how others find it (docs/rpc.md).

The Kobo's user partition is FAT and cannot hold a Unix socket, so the socket and the lock live
in a private runtime directory (``$XDG_RUNTIME_DIR/kksync``, else ``<tmp>/kksync-<uid>``, mode
0700), named after the device. ``<device>/.adds/kksync/daemon.json`` points the plugin (and a
second daemon) at the socket while the daemon runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import stat
import tempfile
from pathlib import Path
from typing import Any

from application.errors import DeviceError

log = logging.getLogger(__name__)

MAX_SOCKET_PATH_BYTES = 107
"""``sun_path`` holds 108 bytes on Linux, one of them the terminating NUL."""


class DaemonRefused(DeviceError):
    """This daemon must not start: another one serves the device, or the socket cannot be made safely."""


def device_key(root: Path) -> str:
    """A short stable name for a device root, for file names in the shared runtime directory."""
    return hashlib.sha256(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def runtime_dir(environ: dict[str, str] | None = None) -> Path:
    """The private directory for sockets and locks, created 0700 and checked to be ours alone."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "kksync" if base else Path(tempfile.gettempdir()) / f"kksync-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise DaemonRefused(f"{folder} is not a directory owned by this user; refusing to put a socket there")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)
    return folder


def device_lock_path(root: Path) -> Path:
    """The lock the daemon and ``kksync sync`` share for this device (``adapters.device_lock``)."""
    return runtime_dir() / f"{device_key(root)}.lock"


def default_socket(root: Path) -> Path:
    return runtime_dir() / f"{device_key(root)}.sock"


def daemon_file(root: Path) -> Path:
    return root / ".adds" / "kksync" / "daemon.json"


def check_socket_path(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise DaemonRefused(
            f"socket path {path} is longer than {MAX_SOCKET_PATH_BYTES} bytes; choose a shorter one"
        )


def socket_answers(path: Path) -> bool:
    """Whether something accepts connections on this Unix socket right now."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_daemon_file(root: Path) -> dict[str, Any] | None:
    """daemon.json as a dict, or None when it is missing or unreadable (a crash mid-write)."""
    try:
        document = json.loads(daemon_file(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def live_daemon(root: Path) -> dict[str, Any] | None:
    """daemon.json of a daemon that still runs and answers, or None when there is none (or it is stale)."""
    document = read_daemon_file(root)
    if document is None:
        return None
    if not from_this_host(document):
        return None
    pid, socket_path = document.get("pid"), document.get("socket")
    if not isinstance(pid, int) or not isinstance(socket_path, str) or pid == os.getpid():
        return None
    if pid_alive(pid) and socket_answers(Path(socket_path)):
        return document
    return None


def from_this_host(document: dict[str, Any]) -> bool:
    """daemon.json names its host: one left by another computer that had the Kobo mounted is not ours."""
    host = document.get("host")
    return host is None or host == socket.gethostname()


def already_running(root: Path) -> str:
    document = read_daemon_file(root) or {}
    pid = document.get("pid", "?")
    where = document.get("socket", "its socket")
    return f"a kksync daemon (pid {pid}) already serves {root} at {where}; stop it first"


def remove_stale_socket(path: Path) -> None:
    """Remove a socket left by a dead daemon; refuse when a live one answers on it."""
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise DaemonRefused(f"{path} exists and is not a socket; refusing to replace it")
    if socket_answers(path):
        raise DaemonRefused(f"another program already listens on {path}")
    log.info("removing the stale socket %s", path)
    path.unlink()


def write_daemon_file(root: Path, document: dict[str, Any]) -> Path:
    """Write daemon.json atomically (a reader never sees half a file)."""
    path = daemon_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".daemon.json.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def remove_daemon_file(root: Path) -> None:
    """Remove daemon.json, but only while it still names this process."""
    document = read_daemon_file(root)
    if document is not None and document.get("pid") != os.getpid():
        return
    daemon_file(root).unlink(missing_ok=True)
