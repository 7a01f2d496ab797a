"""Properties of the annotation merge over generated sides and ledgers (docs/annotations.md)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from domain.annotation import Annotation, AnnotationKind, TextPoint, TextRange
from domain.annotation_merge import AnnotationMerge, AnnotationRule, SideAction, merge_annotations
from tests.unit.domain.builders import minute
from tests.unit.domain.strategies import PROPERTY

ranges = st.sampled_from(
    [TextRange(TextPoint(spine, start), TextPoint(spine, start + 5)) for spine in (0, 3) for start in (0, 7)]
)
any_annotation = st.builds(
    Annotation,
    kind=st.sampled_from([AnnotationKind.HIGHLIGHT, AnnotationKind.BOOKMARK]),
    range=ranges,
    text=st.just("words"),
    note=st.sampled_from([None, "", "a", "b", "a\n\nb"]),
    color=st.sampled_from([None, "yellow", "red"]),
    created=st.sampled_from([None, minute(1), minute(2)]),
    modified=st.sampled_from([None, minute(3), minute(4)]),
)
sides = st.lists(any_annotation, max_size=5)


def applied(
    holding: list[Annotation], merge: AnnotationMerge, side: str, *, colourless: bool
) -> list[Annotation]:
    """One side after the merge's writes, as the adapters would leave it."""
    by_key = {annotation.key: annotation for annotation in reversed(holding)}
    for key in merge.to_delete(side):
        del by_key[key]
    for annotation in merge.to_add(side) + merge.to_update(side):
        by_key[annotation.key] = annotation
    if colourless:
        return [replace(annotation, color=None) for annotation in by_key.values()]
    return list(by_key.values())


@PROPERTY
@given(sides, sides, sides, st.booleans(), st.booleans(), st.booleans())
def test_a_second_merge_after_applying_the_first_writes_nothing(
    kobo: list[Annotation],
    koreader: list[Annotation],
    agreed: list[Annotation],
    kobo_complete: bool,
    koreader_complete: bool,
    kobo_colourless: bool,
) -> None:
    if kobo_colourless:
        kobo = [replace(annotation, color=None) for annotation in kobo]
    merge = merge_annotations(
        kobo, koreader, agreed, kobo_complete=kobo_complete, koreader_complete=koreader_complete
    )
    again = merge_annotations(
        applied(kobo, merge, "kobo", colourless=kobo_colourless),
        applied(koreader, merge, "koreader", colourless=False),
        merge.agreed,
        kobo_complete=kobo_complete,
        koreader_complete=koreader_complete,
    )
    assert again.writes_nothing
    assert {outcome.rule for outcome in again.outcomes.values()} <= {
        AnnotationRule.SAME,
        AnnotationRule.ABSENCE_UNPROVEN,
    }
    assert [(a.key, a.content) for a in again.agreed] == [(a.key, a.content) for a in merge.agreed]


@PROPERTY
@given(sides, sides, sides, st.booleans(), st.booleans())
def test_no_annotation_is_dropped_and_deletions_are_proven(
    kobo: list[Annotation],
    koreader: list[Annotation],
    agreed: list[Annotation],
    kobo_complete: bool,
    koreader_complete: bool,
) -> None:
    merge = merge_annotations(
        kobo, koreader, agreed, kobo_complete=kobo_complete, koreader_complete=koreader_complete
    )
    ledger = {annotation.key: annotation for annotation in reversed(agreed)}
    kept = {annotation.key: annotation for annotation in merge.agreed}
    for side, holding, other_complete in (
        ("kobo", kobo, koreader_complete),
        ("koreader", koreader, kobo_complete),
    ):
        for annotation in holding:
            if annotation in merge.duplicates:
                continue
            outcome = merge.outcomes[annotation.key]
            if getattr(outcome, side) is SideAction.DELETE:
                assert other_complete
                assert annotation.content.agrees_with(ledger[annotation.key].content)
                continue
            assert annotation.key in kept
            before = ledger.get(annotation.key)
            changed = before is None or annotation.content.note != before.content.note
            if changed and annotation.content.note and outcome.rule is not AnnotationRule.ABSENCE_UNPROVEN:
                assert annotation.content.note in (kept[annotation.key].note or "")


@PROPERTY
@given(sides, sides)
def test_without_a_ledger_nothing_is_ever_deleted(kobo: list[Annotation], koreader: list[Annotation]) -> None:
    merge = merge_annotations(kobo, koreader, [])
    assert merge.to_delete("kobo") == [] and merge.to_delete("koreader") == []
    assert {a.key for a in merge.agreed} == {a.key for a in kobo} | {a.key for a in koreader}
