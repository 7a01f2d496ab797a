"""The domain never reads a clock: every time it compares is passed in by the caller."""

from __future__ import annotations

from pathlib import Path

import pytest

import domain

CLOCK_CALLS = ("datetime.now", "datetime.utcnow", "time.time", "date.today", "time.monotonic", ".now(")
DOMAIN_SOURCES = sorted(Path(domain.__file__).parent.glob("*.py"))


def test_the_domain_package_has_sources_to_check() -> None:
    assert {path.name for path in DOMAIN_SOURCES} >= {"decision.py", "position.py", "chapter_map.py"}


@pytest.mark.parametrize("source", DOMAIN_SOURCES, ids=lambda path: path.name)
def test_domain_module_reads_no_clock(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    found = [call for call in CLOCK_CALLS if call in text]
    assert not found, f"{source.name} reads the clock: {found}"
