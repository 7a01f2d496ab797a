"""One test per row of the annotation decision table in docs/annotations.md."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.annotation import Annotation, AnnotationContent, AnnotationKind, TextPoint, TextRange
from domain.annotation_merge import (
    AnnotationRule,
    SideAction,
    decide_annotation,
    joined_notes,
    merge_annotations,
)
from tests.unit.domain.annotation_builders import bookmark, highlight

NONE, ADD, UPDATE, DELETE = SideAction.NONE, SideAction.ADD, SideAction.UPDATE, SideAction.DELETE


def test_row_1_same_on_both_sides_writes_nothing() -> None:
    kobo, koreader = highlight(note="n", at=1), highlight(note="n", at=5)
    outcome = decide_annotation(kobo, koreader, None)
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.SAME, NONE, NONE)
    assert outcome.agreed == kobo


def test_row_1_a_side_without_colours_agrees_and_keeps_the_other_colour() -> None:
    kobo, koreader = highlight(color=None), highlight(color="green")
    outcome = decide_annotation(kobo, koreader, highlight(color="yellow"))
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.SAME, NONE, NONE)
    assert outcome.agreed is not None and outcome.agreed.color == "green"


def test_row_2_added_on_kobo_is_added_to_koreader() -> None:
    kobo = highlight(note="why")
    outcome = decide_annotation(kobo, None, None)
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.ADDED_ON_KOBO, NONE, ADD)
    assert outcome.agreed == kobo


def test_row_3_added_on_koreader_is_added_to_kobo() -> None:
    koreader = highlight(color="red")
    outcome = decide_annotation(None, koreader, None)
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.ADDED_ON_KOREADER, ADD, NONE)
    assert outcome.agreed == koreader


def test_row_4_deleted_on_both_is_forgotten() -> None:
    outcome = decide_annotation(None, None, highlight())
    assert (outcome.rule, outcome.agreed, outcome.kobo, outcome.koreader) == (
        AnnotationRule.DELETED_ON_BOTH,
        None,
        NONE,
        NONE,
    )


@pytest.mark.parametrize("missing_on_kobo", [True, False])
def test_row_5_absence_on_a_side_with_unplaced_annotations_proves_nothing(missing_on_kobo: bool) -> None:
    agreed = highlight(note="kept")
    kobo, koreader = (None, agreed) if missing_on_kobo else (agreed, None)
    outcome = decide_annotation(
        kobo, koreader, agreed, kobo_complete=not missing_on_kobo, koreader_complete=missing_on_kobo
    )
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.ABSENCE_UNPROVEN, NONE, NONE)
    assert outcome.agreed == agreed


def test_row_5_an_incomplete_side_does_not_block_an_addition() -> None:
    outcome = decide_annotation(highlight(), None, None, koreader_complete=False)
    assert (outcome.rule, outcome.koreader) == (AnnotationRule.ADDED_ON_KOBO, ADD)


def test_row_5_only_the_missing_sides_completeness_counts() -> None:
    agreed = highlight()
    outcome = decide_annotation(agreed, None, agreed, kobo_complete=False)
    assert (outcome.rule, outcome.kobo) == (AnnotationRule.DELETED_ON_KOREADER, DELETE)


def test_row_6_deleted_on_koreader_is_deleted_on_kobo_when_kobo_still_holds_the_agreed_one() -> None:
    agreed = highlight(note="n", color="yellow")
    outcome = decide_annotation(highlight(note="n", color=None), None, agreed)
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (
        AnnotationRule.DELETED_ON_KOREADER,
        DELETE,
        NONE,
    )
    assert outcome.agreed is None


def test_row_7_deleted_on_kobo_is_deleted_on_koreader_when_koreader_still_holds_the_agreed_one() -> None:
    agreed = highlight(note="n")
    outcome = decide_annotation(None, highlight(note="n", edited=3), agreed)
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.DELETED_ON_KOBO, NONE, DELETE)


def test_row_8_edited_on_kobo_after_koreader_deleted_it_comes_back_and_is_reported() -> None:
    kobo = highlight(note="changed my mind", edited=9)
    outcome = decide_annotation(kobo, None, highlight(note="first thought"))
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (
        AnnotationRule.EDITED_ON_KOBO_DELETED_ON_KOREADER,
        NONE,
        ADD,
    )
    assert outcome.agreed == kobo and outcome.is_conflict


def test_row_9_edited_on_koreader_after_kobo_deleted_it_comes_back_and_is_reported() -> None:
    koreader = highlight(color="red")
    outcome = decide_annotation(None, koreader, highlight(color="yellow"))
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (
        AnnotationRule.EDITED_ON_KOREADER_DELETED_ON_KOBO,
        ADD,
        NONE,
    )
    assert outcome.agreed == koreader and outcome.is_conflict


def test_row_10_an_edit_on_kobo_goes_to_koreader_whatever_the_clocks_say() -> None:
    kobo, koreader = highlight(note="new", edited=1), highlight(edited=50)
    outcome = decide_annotation(kobo, koreader, highlight())
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.EDITED_ON_KOBO, NONE, UPDATE)
    assert outcome.agreed == kobo and not outcome.is_conflict


def test_row_10_an_edit_on_kobo_keeps_koreaders_colour_when_kobo_holds_none() -> None:
    kobo, koreader = highlight(note="new", color=None), highlight(color="blue")
    outcome = decide_annotation(kobo, koreader, highlight(color="blue"))
    assert outcome.rule is AnnotationRule.EDITED_ON_KOBO
    assert outcome.agreed is not None and outcome.agreed.content == AnnotationContent("new", "blue")


def test_row_11_an_edit_on_koreader_goes_to_kobo() -> None:
    kobo, koreader = highlight(color=None, edited=90), highlight(color="purple", edited=2)
    outcome = decide_annotation(kobo, koreader, highlight(color=None, note=None))
    assert outcome.rule is AnnotationRule.SAME  # no colour on Kobo agrees with purple
    outcome = decide_annotation(highlight(color=None), highlight(note="mine"), highlight(color="yellow"))
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.EDITED_ON_KOREADER, UPDATE, NONE)
    assert outcome.agreed is not None and outcome.agreed.note == "mine"


def test_row_12_both_notes_edited_keeps_both_newer_first_and_reports_it() -> None:
    kobo, koreader = highlight(note="kobo words", edited=5), highlight(note="koreader words", edited=7)
    outcome = decide_annotation(kobo, koreader, highlight(note="old"))
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.NOTES_DIFFER, UPDATE, UPDATE)
    assert outcome.is_conflict
    assert outcome.agreed is not None
    assert outcome.agreed.note == "koreader words\n\nkobo words"
    assert outcome.agreed.kind is AnnotationKind.NOTE and outcome.agreed.modified == koreader.modified


def test_row_12_without_a_ledger_entry_differing_notes_are_joined_too() -> None:
    kobo, koreader = highlight(note="a", edited=9), highlight(note="b", color="red", edited=1)
    outcome = decide_annotation(kobo, koreader, None)
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.NOTES_DIFFER, UPDATE, UPDATE)
    assert outcome.agreed is not None and outcome.agreed.content == AnnotationContent("a\n\nb", "yellow")


def test_row_12_the_side_already_holding_the_joined_note_is_not_written() -> None:
    kobo, koreader = highlight(note="a", edited=9, color=None), highlight(note=None, color="red", edited=1)
    outcome = decide_annotation(kobo, koreader, None)
    assert (outcome.kobo, outcome.koreader) == (NONE, UPDATE)
    assert outcome.agreed is not None and outcome.agreed.content == AnnotationContent("a", "red")


def test_row_13_both_colours_changed_newer_wins_without_a_conflict() -> None:
    kobo, koreader = highlight(color="green", edited=3), highlight(color="red", edited=4)
    outcome = decide_annotation(kobo, koreader, highlight(color="yellow"))
    assert (outcome.rule, outcome.kobo, outcome.koreader) == (AnnotationRule.COLOURS_DIFFER, UPDATE, NONE)
    assert outcome.agreed is not None and outcome.agreed.color == "red" and not outcome.is_conflict


def test_row_13_kobo_counts_as_newer_on_a_tie_or_an_unknown_time() -> None:
    tie = decide_annotation(highlight(color="green", at=3), highlight(color="red", at=3), None)
    assert tie.agreed is not None and tie.agreed.color == "green"
    unknown = decide_annotation(highlight(color="green", at=None), highlight(color="red", at=None), None)
    assert unknown.agreed is not None and unknown.agreed.color == "green"
    only_koreader_known = decide_annotation(highlight(color="green", at=None), highlight(color="red"), None)
    assert only_koreader_known.agreed is not None and only_koreader_known.agreed.color == "red"
    only_kobo_known = decide_annotation(highlight(color="green"), highlight(color="red", at=None), None)
    assert only_kobo_known.agreed is not None and only_kobo_known.agreed.color == "green"


def test_joined_notes_keep_each_distinct_note_once() -> None:
    assert joined_notes("a", "b") == "a\n\nb"
    assert joined_notes("a", "a") == "a"
    assert joined_notes(None, "b") == "b"
    assert joined_notes(None, None) is None


def test_a_highlight_and_a_bookmark_at_the_same_place_are_different_annotations() -> None:
    mark = bookmark(10)
    point = highlight(10, 10)
    merge = merge_annotations([mark], [point], [])
    assert [annotation.kind for annotation in merge.to_add("koreader")] == [AnnotationKind.BOOKMARK]
    assert [annotation.kind for annotation in merge.to_add("kobo")] == [AnnotationKind.HIGHLIGHT]


def test_merge_lists_actions_per_side_in_reading_order() -> None:
    early, late, gone, agreed_edit = highlight(1, 2), highlight(50, 60), highlight(70, 80), highlight(90, 95)
    merge = merge_annotations(
        kobo=[late, gone, agreed_edit],
        koreader=[early, highlight(90, 95, note="edited")],
        agreed=[gone, agreed_edit],
    )
    assert merge.to_add("kobo") == [early]
    assert merge.to_add("koreader") == [late]
    assert merge.to_delete("kobo") == [gone.key]
    assert [a.note for a in merge.to_update("kobo")] == ["edited"]
    assert merge.to_update("koreader") == [] and merge.to_delete("koreader") == []
    assert [a.range.start.offset for a in merge.agreed] == [1, 50, 90]
    assert not merge.writes_nothing and merge.conflicts == []


def test_a_second_annotation_with_the_same_key_is_left_alone_and_reported() -> None:
    first, second = highlight(note="one"), highlight(note="two")
    merge = merge_annotations([first, second], [first], [])
    assert merge.duplicates == (second,)
    assert merge.writes_nothing


def test_conflicts_are_listed() -> None:
    merge = merge_annotations([highlight(note="x")], [highlight(note="y")], [])
    assert [outcome.rule for outcome in merge.conflicts] == [AnnotationRule.NOTES_DIFFER]


def test_an_empty_note_is_no_note() -> None:
    assert highlight(note="").content == AnnotationContent(None, "yellow")
    assert (
        highlight(note="a").with_content(AnnotationContent("", None), None).kind is AnnotationKind.HIGHLIGHT
    )


def test_a_bookmark_stays_a_bookmark_when_it_gets_a_note() -> None:
    assert bookmark().with_content(AnnotationContent("n"), None).kind is AnnotationKind.BOOKMARK


def test_positions_and_times_are_checked() -> None:
    with pytest.raises(ValueError, match="never negative"):
        TextPoint(0, -1)
    with pytest.raises(ValueError, match="never negative"):
        TextPoint(-1, 0)
    with pytest.raises(ValueError, match="ends after it starts"):
        TextRange(TextPoint(1, 5), TextPoint(1, 4))
    with pytest.raises(ValueError, match="UTC"):
        Annotation(
            AnnotationKind.NOTE, TextRange(TextPoint(0, 0), TextPoint(0, 1)), created=datetime(2025, 1, 1)
        )
    assert TextRange(TextPoint(1, 5), TextPoint(1, 5)).start.offset == 5
    assert Annotation(
        AnnotationKind.NOTE,
        TextRange(TextPoint(0, 0), TextPoint(0, 1)),
        modified=datetime(2025, 1, 1, tzinfo=UTC),
    ).last_change == datetime(2025, 1, 1, tzinfo=UTC)


def test_row_10_a_colour_edit_on_kobo_carries_kobos_colour() -> None:
    kobo, koreader = highlight(color="red", edited=4), highlight(color="yellow")
    outcome = decide_annotation(kobo, koreader, highlight(color="yellow"))
    assert (outcome.rule, outcome.koreader) == (AnnotationRule.EDITED_ON_KOBO, UPDATE)
    assert outcome.agreed is not None and outcome.agreed.color == "red"


def test_row_1_filling_in_the_other_sides_colour_keeps_the_edit_time() -> None:
    outcome = decide_annotation(highlight(color=None, edited=6), highlight(color="blue"), None)
    assert outcome.agreed is not None
    assert (outcome.agreed.color, outcome.agreed.modified) == ("blue", highlight(edited=6).modified)


def test_row_12_the_joined_note_is_dated_by_the_later_edit_whichever_side() -> None:
    kobo, koreader = highlight(note="kobo", edited=9), highlight(note="koreader", edited=2)
    outcome = decide_annotation(kobo, koreader, None)
    assert outcome.agreed is not None
    assert (outcome.agreed.note, outcome.agreed.modified) == ("kobo\n\nkoreader", kobo.modified)


def test_row_13_the_note_stays_and_the_later_edit_dates_it() -> None:
    kobo, koreader = highlight(note="n", color="green", edited=8), highlight(note="n", color="red", edited=1)
    outcome = decide_annotation(kobo, koreader, highlight(note="n", color="yellow"))
    assert outcome.agreed is not None
    assert (outcome.agreed.note, outcome.agreed.color, outcome.agreed.modified) == (
        "n",
        "green",
        kobo.modified,
    )


def test_merge_takes_both_sides_as_complete_unless_told_otherwise() -> None:
    agreed = highlight()
    assert merge_annotations([], [agreed], [agreed]).to_delete("koreader") == [agreed.key]
    assert merge_annotations([agreed], [], [agreed]).to_delete("kobo") == [agreed.key]
    kept = merge_annotations([], [agreed], [agreed], kobo_complete=False)
    assert kept.writes_nothing and kept.agreed == [agreed]


def test_an_empty_note_normalises_everywhere_and_an_edit_is_dated() -> None:
    assert highlight(note="").note is None
    assert AnnotationContent("", "red") == AnnotationContent(None, "red")
    edited = highlight().with_content(AnnotationContent("n", "red"), highlight(edited=5).modified)
    assert (edited.note, edited.color, edited.modified) == ("n", "red", highlight(edited=5).modified)
