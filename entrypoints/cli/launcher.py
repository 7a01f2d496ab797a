"""The ``kksync`` console script: a tiny first module, so that Ctrl-C is answered politely at any
moment, even while the command's libraries are still being imported.

Everything kksync writes is a transaction or a temporary file renamed into place, so an
interrupted run never leaves a half-written file behind: saying so is the whole message.
"""

from __future__ import annotations

import signal
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C
INTERRUPTED = "kksync: interrupted; nothing was left half-written\n"


def main() -> None:
    try:
        from entrypoints.cli.app import main as run_command

        run_command()
    except KeyboardInterrupt:
        interrupted()
    except Exception as error:
        if not caused_by_interrupt(error):
            raise
        interrupted()
    except SystemExit:  # done: a Ctrl-C while Python shuts down must not undo the exit code
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether a Ctrl-C is what this exception is really about.

    Python wraps some exceptions on the way: a Ctrl-C landing while a class body is being set up
    during an import (``__set_name__``) comes out as a ``RuntimeError`` whose cause is the
    ``KeyboardInterrupt``. That is an interruption, not a bug to report.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def interrupted() -> None:
    """Say so once, ignore further Ctrl-C while exiting, and exit 130."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sys.stderr.write(INTERRUPTED)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is gone; the exit code still says it
    sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
