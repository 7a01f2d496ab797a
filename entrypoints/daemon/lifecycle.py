"""How the daemon lives beside the program that started it: at low priority, and never longer than it.

On the Kobo the KOReader plugin starts the daemon in the background. When KOReader goes away
(exit, restart, a crash, USB storage mode) an orphaned daemon would keep the FAT partition busy,
so the daemon watches its parent with a *blocking* primitive — never a polling loop, because an
idle e-reader must stay idle:

* ``--parent-fd N``: the read end of a pipe whose write end only the parent holds. ``read`` blocks
  until the parent's end closes (the kernel closes it when the process dies, however it dies).
  Works on every kernel, so the plugin uses it on the Kobo.
* ``--parent-pid PID``: a pidfd (Linux ≥ 5.3) or kqueue (macOS) that becomes readable when the
  process exits; on older Linux, when PID is our direct parent, ``PR_SET_PDEATHSIG``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

NICENESS = 10
"""Added to the daemon's nice value: KOReader's page turns come first."""

PR_SET_PDEATHSIG = 1

OnGone = Callable[[str], None]


def lower_priority() -> None:
    """Nice 10 and, on Linux, SCHED_BATCH. Call before starting threads: they inherit both."""
    try:
        os.nice(NICENESS)
    except OSError as error:
        log.debug("cannot lower the priority: %s", error)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH"):
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except OSError as error:
            log.debug("cannot switch to SCHED_BATCH: %s", error)


def release_memory() -> None:
    """After a sync: collect cycles and hand freed heap pages back to the system (glibc).

    A full sync of a large library builds many short-lived objects; without this the process
    keeps its peak size for ever, which on a 512 MB e-reader is memory KOReader lacks.
    """
    gc.collect()
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    """The C library the interpreter runs on: its own symbols first (no ``ldconfig`` needed, which
    a Kobo may not have), then whatever ``find_library`` finds."""
    for name in (None, ctypes.util.find_library("c")):
        try:
            library = ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
        if hasattr(library, "malloc_trim") or name is not None:
            return library
    return None


_LIBC = _libc()


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(on_stop: OnGone) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT call ``on_stop(reason)`` once each, from a helper thread.

    A Python signal handler runs in the main thread between two bytecodes, possibly while that
    thread holds the lock ``threading.Event.set`` needs (it may be inside ``Event.wait``): setting
    an event from the handler can deadlock, and the daemon then never stops. So the handler does
    nothing; CPython's C-level wake-up fd carries the signal number to a thread that blocks on it
    (no timer) and calls ``on_stop`` in ordinary thread context.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    wanted = {int(sig): sig.name for sig in STOP_SIGNALS}

    def relay() -> None:
        while data := os.read(read_end, 64):  # b"" once the write end is closed: leaving
            for number in data:
                if number in wanted:
                    on_stop(f"received {wanted[number]}")

    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    previous = {sig: signal.signal(sig, _wake_only) for sig in STOP_SIGNALS}
    relay_thread = threading.Thread(target=relay, name="kksync-signals", daemon=True)
    relay_thread.start()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(write_end)
        relay_thread.join(timeout=1)
        os.close(read_end)


def _wake_only(_signum: int, _frame: object) -> None:
    """The Python-level handler: the wake-up fd has already carried the signal to ``relay``."""


def watch_parent(on_gone: OnGone, *, pid: int | None = None, fd: int | None = None) -> None:
    """Call ``on_gone(reason)`` once when the parent (by pipe or by pid) is gone; returns at once."""
    if fd is not None:
        _start("kksync-parent-pipe", lambda: _wait_for_eof(fd, on_gone))
    if pid is not None:
        _watch_pid(pid, on_gone)


def _start(name: str, target: Callable[[], None]) -> None:
    threading.Thread(target=target, name=name, daemon=True).start()


def _wait_for_eof(fd: int, on_gone: OnGone) -> None:
    """Block on the pipe until every write end is closed (the parent exited)."""
    try:
        while os.read(fd, 512):
            pass  # the parent never writes; anything read is ignored
    except OSError as error:
        log.warning("the parent pipe (fd %d) failed: %s; stopping", fd, error)
    on_gone(f"the program that started kksync is gone (pipe fd {fd} closed)")


def _watch_pid(pid: int, on_gone: OnGone) -> None:
    reason = f"the program that started kksync (pid {pid}) is gone"
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            on_gone(reason)
            return
        except OSError as error:  # a kernel before 5.3 has no pidfd
            log.debug("pidfd_open(%d) failed: %s", pid, error)
        else:
            _start("kksync-parent-pid", lambda: _wait_readable(pidfd, on_gone, reason))
            return
    if hasattr(select, "kqueue"):  # macOS, BSD
        _start("kksync-parent-pid", lambda: _wait_kqueue(pid, on_gone, reason))
        return
    if sys.platform.startswith("linux") and os.getppid() == pid and _set_parent_death_signal():
        log.info("SIGTERM will come when pid %d exits (PR_SET_PDEATHSIG)", pid)
        return
    log.warning("cannot watch pid %d on this system; use --parent-fd instead", pid)


def _wait_readable(pidfd: int, on_gone: OnGone, reason: str) -> None:
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.poll()  # blocks until the process exits
    os.close(pidfd)
    on_gone(reason)


def _wait_kqueue(pid: int, on_gone: OnGone, reason: str) -> None:
    kq: Any = select  # kqueue names exist on macOS/BSD only (mypy checks the Linux stubs)
    queue = kq.kqueue()
    event = kq.kevent(pid, filter=kq.KQ_FILTER_PROC, fflags=kq.KQ_NOTE_EXIT)
    try:
        queue.control([event], 1, None)  # blocks until the process exits
    except ProcessLookupError:
        pass
    finally:
        queue.close()
    on_gone(reason)


def _set_parent_death_signal() -> bool:
    if _LIBC is None:
        return False
    return bool(_LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0)
