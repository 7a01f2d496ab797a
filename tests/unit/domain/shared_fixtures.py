"""Finds the read-only shared fixtures, which live beside the repository (``<clone>/../shared``)."""

from __future__ import annotations

from pathlib import Path


def shared_fixtures() -> Path:
    """The ``shared/fixtures`` folder found walking up from this file (works from ``mutants/`` too)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "fixtures"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no shared/fixtures folder above {Path(__file__).resolve().parent}")
