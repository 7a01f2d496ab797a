"""crengine xpointers as KOReader stores them in ``last_xpointer`` (koreader.md §6).

``/body/DocFragment[N]/body/div/p[3]/text()[2].15``: steps from the synthetic root, each a
name with an optional 1-based index among same-name siblings, ``text()`` with an optional
index among text siblings, or a bare ``N`` (N-th child of any kind); the last step may carry a
point ``.N`` (a character offset after ``text()``, a child offset after an element).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT = "text()"
STEP = re.compile(r"^(?P<name>text\(\)|[^\[\]./]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<point>\d+))?$")
ROOT_NAME = "body"
FRAGMENT_NAME = "docfragment"


@dataclass(frozen=True)
class Step:
    """One path step. ``name`` is lower case, ``text()`` for text nodes, or None for ``/N``."""

    name: str | None
    index: int = 1

    @property
    def is_text(self) -> bool:
        return self.name == TEXT


@dataclass(frozen=True)
class XPointer:
    """A parsed pointer: the DocFragment (1-based), the steps below it, and the final point."""

    fragment: int
    steps: tuple[Step, ...]
    point: int | None


def parse_xpointer(text: str) -> XPointer | None:
    """Parse a KOReader xpointer; None when it is not a ``/body/DocFragment…`` path."""
    parts = text.strip().split("/")
    if len(parts) < 3 or parts[0] != "":
        return None
    steps: list[Step] = []
    point: int | None = None
    for position, raw in enumerate(parts[1:], start=1):
        match = STEP.match(raw)
        if match is None:
            return None
        if match.group("point") is not None:
            if position != len(parts) - 1:
                return None
            point = int(match.group("point"))
        steps.append(_step(match.group("name"), match.group("index")))
    root, fragment, *below = steps
    if root.name != ROOT_NAME or fragment.name != FRAGMENT_NAME or fragment.index < 1:
        return None
    return XPointer(fragment.index, tuple(below), point)


def _step(name: str, index: str | None) -> Step:
    if name.isdigit():
        return Step(None, int(name))
    return Step(name.lower(), int(index) if index is not None else 1)


def fragment_prefix(fragment: int, fragment_count: int, always_indexed: bool = False) -> str:
    """``/body/DocFragment[N]``, without ``[1]`` when the book has a single fragment.

    From DOM 20260812 (``always_indexed``) every step carries its index: ``/body[1]/DocFragment[1]``.
    """
    root = "/body[1]" if always_indexed else "/body"
    return f"{root}/DocFragment" + index_suffix(fragment, fragment_count, always_indexed)


def index_suffix(index: int, same_name_count: int, always_indexed: bool = False) -> str:
    """crengine's index: ``[K]`` only when the element has same-name siblings, or always."""
    return f"[{index}]" if same_name_count > 1 or always_indexed else ""
