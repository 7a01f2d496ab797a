"""Merging Nickel's and KOReader's annotations against the last agreed set (docs/annotations.md).

Each annotation is recognised by its ``AnnotationKey``. For one key, ``decide_annotation`` looks at
what Kobo holds, what KOReader holds and what the ledger says both agreed on last time, and returns
the row of the decision table that applies with what to write on each side. ``merge_annotations``
does that for every key of a book. Nothing here reads a clock or a file.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain.annotation import Annotation, AnnotationContent, AnnotationKey


class AnnotationRule(enum.Enum):
    """The rows of the decision table in docs/annotations.md, in order."""

    SAME = 1
    ADDED_ON_KOBO = 2
    ADDED_ON_KOREADER = 3
    DELETED_ON_BOTH = 4
    ABSENCE_UNPROVEN = 5
    DELETED_ON_KOREADER = 6
    DELETED_ON_KOBO = 7
    EDITED_ON_KOBO_DELETED_ON_KOREADER = 8
    EDITED_ON_KOREADER_DELETED_ON_KOBO = 9
    EDITED_ON_KOBO = 10
    EDITED_ON_KOREADER = 11
    NOTES_DIFFER = 12
    COLOURS_DIFFER = 13


class SideAction(enum.Enum):
    """What one side gets for one annotation."""

    NONE = "none"
    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


# Rows after which the two sides disagree in a way the person should hear about.
CONFLICT_RULES = frozenset(
    {
        AnnotationRule.EDITED_ON_KOBO_DELETED_ON_KOREADER,
        AnnotationRule.EDITED_ON_KOREADER_DELETED_ON_KOBO,
        AnnotationRule.NOTES_DIFFER,
    }
)


@dataclass(frozen=True, slots=True)
class AnnotationOutcome:
    """One key's decision: the table row, the annotation both sides hold afterwards, each side's action.

    ``agreed`` is what the ledger records (None: the key is forgotten, or left as it was when
    the row is ``ABSENCE_UNPROVEN``). ``kobo``/``koreader`` carry the annotation to write for
    ADD/UPDATE; a DELETE removes the side's annotation with this key.
    """

    rule: AnnotationRule
    agreed: Annotation | None
    kobo: SideAction = SideAction.NONE
    koreader: SideAction = SideAction.NONE

    @property
    def is_conflict(self) -> bool:
        return self.rule in CONFLICT_RULES


def joined_notes(first: str | None, second: str | None) -> str | None:
    """Both notes, ``first`` first, each once: a conflict keeps every word anyone wrote."""
    notes = [note for note in (first, second) if note]
    if len(notes) == 2 and notes[0] == notes[1]:
        notes.pop()
    return "\n\n".join(notes) or None


def _newer(kobo: Annotation, koreader: Annotation) -> Annotation:
    """The side edited last; Kobo on a tie or when a time is unknown (it is the book's home)."""
    kobo_time, koreader_time = kobo.last_change, koreader.last_change
    if kobo_time is not None and koreader_time is not None and koreader_time > kobo_time:
        return koreader
    if kobo_time is None and koreader_time is not None:
        return koreader
    return kobo


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _reconciled(kobo: Annotation, koreader: Annotation) -> tuple[AnnotationRule, Annotation]:
    """Both sides hold the key with different content: newer colour wins, differing notes are joined."""
    newer = _newer(kobo, koreader)
    older = koreader if newer is kobo else kobo
    color = newer.color or older.color
    modified = _latest(kobo.last_change, koreader.last_change)
    if kobo.content.note != koreader.content.note:
        note = joined_notes(newer.content.note, older.content.note)
        return AnnotationRule.NOTES_DIFFER, newer.with_content(AnnotationContent(note, color), modified)
    return AnnotationRule.COLOURS_DIFFER, newer.with_content(AnnotationContent(newer.note, color), modified)


def _coloured(source: Annotation, other: Annotation) -> Annotation:
    """``source`` as it is, with ``other``'s colour when ``source`` holds none (never erase a colour)."""
    if source.color is not None or other.color is None:
        return source
    return source.with_content(AnnotationContent(source.note, other.color), source.modified)


def _both_present(kobo: Annotation, koreader: Annotation, agreed: Annotation | None) -> AnnotationOutcome:
    if kobo.content.agrees_with(koreader.content):
        return AnnotationOutcome(AnnotationRule.SAME, _coloured(kobo, koreader))
    if agreed is not None and koreader.content.agrees_with(agreed.content):
        edited = _coloured(kobo, koreader)
        return AnnotationOutcome(AnnotationRule.EDITED_ON_KOBO, edited, koreader=SideAction.UPDATE)
    if agreed is not None and kobo.content.agrees_with(agreed.content):
        edited = _coloured(koreader, kobo)
        return AnnotationOutcome(AnnotationRule.EDITED_ON_KOREADER, edited, kobo=SideAction.UPDATE)
    rule, merged = _reconciled(kobo, koreader)
    kobo_action = SideAction.NONE if kobo.content.agrees_with(merged.content) else SideAction.UPDATE
    koreader_action = SideAction.NONE if koreader.content.agrees_with(merged.content) else SideAction.UPDATE
    return AnnotationOutcome(rule, merged, kobo_action, koreader_action)


def _one_side(holder: Annotation, agreed: Annotation | None, *, on_kobo: bool) -> AnnotationOutcome:
    """Only one side holds the key (the other's absence is known to be real)."""
    if agreed is None:
        if on_kobo:
            return AnnotationOutcome(AnnotationRule.ADDED_ON_KOBO, holder, koreader=SideAction.ADD)
        return AnnotationOutcome(AnnotationRule.ADDED_ON_KOREADER, holder, kobo=SideAction.ADD)
    if holder.content.agrees_with(agreed.content):
        if on_kobo:
            return AnnotationOutcome(AnnotationRule.DELETED_ON_KOREADER, None, kobo=SideAction.DELETE)
        return AnnotationOutcome(AnnotationRule.DELETED_ON_KOBO, None, koreader=SideAction.DELETE)
    if on_kobo:
        return AnnotationOutcome(
            AnnotationRule.EDITED_ON_KOBO_DELETED_ON_KOREADER, holder, koreader=SideAction.ADD
        )
    return AnnotationOutcome(AnnotationRule.EDITED_ON_KOREADER_DELETED_ON_KOBO, holder, kobo=SideAction.ADD)


def decide_annotation(
    kobo: Annotation | None,
    koreader: Annotation | None,
    agreed: Annotation | None,
    *,
    kobo_complete: bool = True,
    koreader_complete: bool = True,
) -> AnnotationOutcome:
    """The decision for one key (first matching row of docs/annotations.md wins).

    A side is *complete* when every annotation it holds could be placed; an incomplete side's
    missing annotation may only be one that could not be placed, so its absence proves nothing.
    """
    if kobo is not None and koreader is not None:
        return _both_present(kobo, koreader, agreed)
    if kobo is None and koreader is None:
        return AnnotationOutcome(AnnotationRule.DELETED_ON_BOTH, None)
    absent_side_complete = koreader_complete if koreader is None else kobo_complete
    if agreed is not None and not absent_side_complete:
        return AnnotationOutcome(AnnotationRule.ABSENCE_UNPROVEN, agreed)
    if kobo is not None:
        return _one_side(kobo, agreed, on_kobo=True)
    assert koreader is not None
    return _one_side(koreader, agreed, on_kobo=False)


@dataclass(frozen=True, slots=True)
class AnnotationMerge:
    """Every key's outcome for one book, in reading order, plus what could not take part."""

    outcomes: dict[AnnotationKey, AnnotationOutcome] = field(default_factory=dict)
    duplicates: tuple[Annotation, ...] = ()

    def _for(self, side: str, action: SideAction) -> list[Annotation]:
        picked = []
        for outcome in self.outcomes.values():
            if getattr(outcome, side) is action and outcome.agreed is not None:
                picked.append(outcome.agreed)
        return picked

    def to_add(self, side: str) -> list[Annotation]:
        """Annotations to create on ``"kobo"`` or ``"koreader"``."""
        return self._for(side, SideAction.ADD)

    def to_update(self, side: str) -> list[Annotation]:
        """Annotations whose note or colour changes on that side (matched by key)."""
        return self._for(side, SideAction.UPDATE)

    def to_delete(self, side: str) -> list[AnnotationKey]:
        return [key for key, outcome in self.outcomes.items() if getattr(outcome, side) is SideAction.DELETE]

    @property
    def conflicts(self) -> list[AnnotationOutcome]:
        return [outcome for outcome in self.outcomes.values() if outcome.is_conflict]

    @property
    def agreed(self) -> list[Annotation]:
        """The set to record in the ledger once every write succeeded."""
        return [outcome.agreed for outcome in self.outcomes.values() if outcome.agreed is not None]

    @property
    def writes_nothing(self) -> bool:
        return all(
            outcome.kobo is SideAction.NONE and outcome.koreader is SideAction.NONE
            for outcome in self.outcomes.values()
        )


def _by_key(annotations: Iterable[Annotation]) -> tuple[dict[AnnotationKey, Annotation], list[Annotation]]:
    """The first annotation of each key, and the later ones that share a key with it."""
    first: dict[AnnotationKey, Annotation] = {}
    duplicates: list[Annotation] = []
    for annotation in annotations:
        if annotation.key in first:
            duplicates.append(annotation)
        else:
            first[annotation.key] = annotation
    return first, duplicates


def merge_annotations(
    kobo: Iterable[Annotation],
    koreader: Iterable[Annotation],
    agreed: Iterable[Annotation],
    *,
    kobo_complete: bool = True,
    koreader_complete: bool = True,
) -> AnnotationMerge:
    """Decide every key either side or the ledger knows, in reading order.

    A second annotation with the same key on one side takes no part (it is left where it is and
    listed in ``duplicates``), so nothing is ever dropped by being merged into another.
    """
    kobo_keys, kobo_duplicates = _by_key(kobo)
    koreader_keys, koreader_duplicates = _by_key(koreader)
    agreed_keys, _ = _by_key(agreed)
    outcomes = {
        key: decide_annotation(
            kobo_keys.get(key),
            koreader_keys.get(key),
            agreed_keys.get(key),
            kobo_complete=kobo_complete,
            koreader_complete=koreader_complete,
        )
        for key in sorted(kobo_keys.keys() | koreader_keys.keys() | agreed_keys.keys())
    }
    return AnnotationMerge(outcomes, tuple(kobo_duplicates + koreader_duplicates))
