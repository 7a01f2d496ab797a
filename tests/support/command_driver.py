"""Run many ``kksync`` commands in one Python process and report what each printed.

``python -m tests.support.command_driver DEVICE`` runs every command of ``COMMANDS`` against
DEVICE through the console entry point, exactly as the installed script calls it, capturing
stdout and stderr (log records included) per command, and prints one JSON list. One process for
a whole list saves the interpreter start-up and imports of every command, which on a loaded
machine cost more than the commands themselves.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from typing import Any

RPC_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("status", {}),
    ("library.list", {}),
    ("sync.plan", {}),
    ("sync.run", {}),
    ("settings.get", {}),
]
RPC_REQUESTS = "".join(
    json.dumps({"jsonrpc": "2.0", "id": number, "method": method, "params": params}) + "\n"
    for number, (method, params) in enumerate(RPC_CALLS, start=1)
)

COMMANDS: list[list[str]] = [
    ["books"],
    ["books", "--json"],
    ["status"],
    ["status", "--json"],
    ["sync", "--dry-run"],
    ["sync", "--json"],
    ["sync"],
    ["config", "show"],
    ["config", "set", "sync_to_kobo_newer", "prompt"],
    ["backup"],
    ["rpc"],
]


def run(arguments: list[str], stdin: str) -> dict[str, Any]:
    """One command: its exit code and everything it wrote."""
    from entrypoints.cli.launcher import main

    stdout_bytes, stderr = io.BytesIO(), io.StringIO()
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["kksync", *arguments]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(stdout_bytes, encoding="utf-8", write_through=True)
    sys.stderr = stderr
    root = logging.getLogger()
    for handler in list(root.handlers):  # so the command's basicConfig logs into this stderr
        root.removeHandler(handler)
    code: object = 0
    try:
        main()
    except SystemExit as done:
        code = done.code
    except BaseException:  # what the installed script would have printed as a traceback
        stderr.write(traceback.format_exc())
        code = "escaped"
    finally:
        sys.stdout.flush()
        printed = stdout_bytes.getvalue().decode("utf-8", "replace")
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
    return {
        "arguments": arguments,
        "code": code,
        "stdout": printed,
        "stderr": stderr.getvalue(),
    }


def main() -> None:
    device = sys.argv[1]
    results = []
    for command in COMMANDS:
        stdin = RPC_REQUESTS if command == ["rpc"] else ""
        results.append(run([*command, "--device", device], stdin))
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
