"""Shows benchmark results as one table per run and stores them as JSON, with the machine they came from."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TABLE_WIDTH = 110  # wide enough for every row on one line, terminal or not
# Section keys in display order, with the title each gets in the table.
SECTIONS = {
    "library": "library built",
    "build": "building the device",
    "plan": "plan() / status, whole library",
    "first_sync": "first sync_all",
    "second_sync": "second sync_all (nothing to do)",
    "status_cli": "kksync status --json (subprocess)",
    "sidecars": "sidecar parse / serialize",
    "epub": "EPUB open + convert",
    "plan_memory": "plan() under tracemalloc",
}


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: interpreter, platform, CPUs, SQLite and key library versions."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": _version("SQLAlchemy"),
        "lxml": _version("lxml"),
        "lupa": _version("lupa"),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(results: Mapping[str, Any], destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return destination


def results_table(results: Mapping[str, Any]) -> Table:
    """Every number of the run, one row each, grouped by phase."""
    table = Table(title=f"kksync benchmark — {results['library']['books']} books", title_justify="left")
    table.add_column("phase", style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, title in SECTIONS.items():
        section = results.get(key)
        if not section:
            continue
        for index, (name, value) in enumerate(section.items()):
            table.add_row(title if index == 0 else "", name, format_value(value))
        table.add_section()
    machine = results["machine"]
    table.caption = (
        f"Python {machine['python']} on {machine['platform']}, {machine['cpus_usable']} of "
        f"{machine['cpu_count']} CPUs, SQLite {machine['sqlite']}"
    )
    return table


def show(results: Mapping[str, Any], console: Console) -> None:
    console.print(results_table(results))


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if value else "0"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "—"
    if isinstance(value, list):
        return "\n".join(map(str, value)) or "—"
    if isinstance(value, Mapping):
        return "\n".join(f"{name} {format_value(count)}" for name, count in value.items()) or "—"
    return str(value)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


GOALS = {"noop_sync": 1.5, "first_sync": 3.0, "status": 2.0}
"""Issue 13's goals, as multiples of the floor measured in the same run."""


def ratios_table(results: Mapping[str, Any]) -> Table:
    """One row per library size: each command as × the floor, daemon latency, peak RSS."""
    table = Table(
        title="kksync vs the floor measured in the same run (× floor wall time)", title_justify="left"
    )
    for column in ("books", "floor s", "--help", "plan", "1st sync", "no-op", "status", "no-op work"):
        table.add_column(column, justify="right")
    table.add_column("daemon ms p50/max", justify="right")
    table.add_column("list ms p50/max", justify="right")
    table.add_column("RSS MiB cli/daemon", justify="right")
    for books, section in results["sizes"].items():
        ratios, work, daemon = section["ratios"], section["work_only"], section["daemon"]
        table.add_row(
            books,
            f"{section['floor']['wall_s']:.2f}",
            f"{section['startup']['wall_s']:.2f} s",
            *(f"{ratios[name]:.1f}×" for name in ("plan", "first_sync", "noop_sync", "status")),
            f"{work['noop_sync_x_floor']:.1f}×",
            f"{format_value(daemon['latency_p50_ms'])}/{format_value(daemon['latency_max_ms'])}",
            f"{format_value(daemon.get('list_p50_ms'))}/{format_value(daemon.get('list_max_ms'))}",
            f"{section['peak_rss_mib']:.0f}/{format_value(daemon['peak_rss_mib'])}",
        )
    goals = ", ".join(f"{name} ≤ {goal:g}×" for name, goal in GOALS.items())
    caption = f"Goals (issue 13): {goals}; daemon ≤ 50 ms after the debounce;"
    caption += " library.list ≤ 50 ms (daemon, from memory)."
    caption += " 'no-op work': in-process, imports excluded, × the floor's own work."
    emulated = results.get("emulated")
    if emulated:
        caption += "\n" + emulated_line(emulated)
    table.caption = caption
    return table


def emulated_line(emulated: dict[str, Any]) -> str:
    """The ARM bundle under qemu in one line (or what stopped it)."""
    if "error" in emulated:
        return f"{emulated['label']}: not measured ({emulated['error']})"
    memory = emulated["daemon_memory"]
    return (
        f"{emulated['label']}, {emulated['bundle']}: --help {emulated['startup']['wall_s']:.1f} s;"
        f" no-op sync of {emulated['books']} books {emulated['noop_sync']['wall_s']:.1f} s;"
        f" daemon on {memory['books']} books, ARM guest memory after its first sync"
        f" {memory['rss_after_first_sync_mib']:.1f} MiB, peak {memory['peak_rss_mib']:.1f} MiB"
    )
