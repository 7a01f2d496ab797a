"""One test per row of the decision table in docs/sync-rules.md (first matching row wins)."""

from __future__ import annotations

from domain import Action, AgreedState, Direction, Reason, Scenario, SyncPolicy, Transfer, decide
from tests.unit.domain.builders import FINISHED, READING, UNOPENED, minute, position, unopened

DEFAULTS = SyncPolicy()


def test_row_1_disabled_policy_skips_every_book() -> None:
    decision = decide(position(0.5, at=10), position(0.2, at=1), None, SyncPolicy(enabled=False))
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.DISABLED)


def test_row_1_disabled_wins_over_a_book_missing_from_kobo() -> None:
    decision = decide(None, position(0.2), None, SyncPolicy(enabled=False))
    assert decision.reason is Reason.DISABLED


def test_row_2_book_not_in_kobo_database_is_not_syncable() -> None:
    decision = decide(None, position(0.4, at=5), None, DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.NOT_SYNCABLE)


def test_row_2_missing_or_encrypted_file_is_not_syncable() -> None:
    decision = decide(position(0.6, at=9), position(0.4, at=5), None, DEFAULTS, syncable=False)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.NOT_SYNCABLE)


def test_row_3_unopened_kobo_book_without_sidecar_has_no_data() -> None:
    decision = decide(unopened(), None, None, DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.NO_DATA)


def test_row_3_unopened_on_both_sides_has_no_data() -> None:
    decision = decide(unopened(), position(0.0, UNOPENED, at=3), None, DEFAULTS)
    assert decision.reason is Reason.NO_DATA


def test_row_4_both_finished_is_skipped_whatever_the_percents() -> None:
    decision = decide(position(0.97, FINISHED, at=1), position(0.4, FINISHED, at=9), None, DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.BOTH_FINISHED)


def test_row_5_equivalent_positions_are_in_sync() -> None:
    decision = decide(position(0.38, at=1), position(0.3804, at=30), None, DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.IN_SYNC)


def test_row_5_same_span_is_in_sync_even_if_percents_differ() -> None:
    kobo = position(0.38, span="kobo.12.3", spine=4, at=1)
    koreader = position(0.395, span="kobo.12.3", spine=4, at=30)
    assert decide(kobo, koreader, None, DEFAULTS).reason is Reason.IN_SYNC


def test_row_5_sides_unchanged_since_the_ledger_are_in_sync() -> None:
    """What the last sync left on both sides is never offered again, even when clocks disagree."""
    kobo, koreader = position(0.38, span="kobo.5.1", at=1), position(0.386, at=30)
    decision = decide(kobo, koreader, AgreedState(kobo, koreader), DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.IN_SYNC)


def test_row_6_only_kobo_changed_since_the_ledger_pulls() -> None:
    koreader = position(0.30, at=0)
    agreed = AgreedState(position(0.30, at=0), koreader)
    kobo = position(0.45, at=5)
    decision = decide(kobo, koreader, agreed, DEFAULTS)
    assert (decision.transfer, decision.position) == (Transfer.PULL, kobo)
    assert decision.direction is Direction.FROM_KOBO


def test_row_6_ledger_beats_a_koreader_clock_that_runs_ahead() -> None:
    koreader = position(0.30, at=120)
    agreed = AgreedState(position(0.30, at=0), koreader)
    kobo = position(0.45, at=5)
    decision = decide(kobo, koreader, agreed, DEFAULTS)
    assert (decision.transfer, decision.scenario) == (Transfer.PULL, Scenario.NEWER)


def test_row_7_only_koreader_changed_since_the_ledger_pushes_even_with_an_older_clock() -> None:
    kobo = position(0.30, at=120)
    agreed = AgreedState(kobo, position(0.30, at=0))
    koreader = position(0.52, at=5)
    decision = decide(kobo, koreader, agreed, DEFAULTS)
    assert (decision.transfer, decision.position) == (Transfer.PUSH, koreader)
    assert decision.direction is Direction.TO_KOBO


def test_row_7_a_koreader_change_is_seen_in_the_locator_alone() -> None:
    kobo = position(0.30, span="kobo.3.1", at=120)
    before = position(0.30, span="kobo.3.1", at=0)
    agreed = AgreedState(kobo, before)
    koreader = position(0.30, span="kobo.3.9", at=0)
    assert decide(kobo, koreader, agreed, DEFAULTS).transfer is Transfer.PUSH


def test_row_6_kobo_reset_to_unread_never_wipes_koreader_progress() -> None:
    """Nickel's "mark as unread" changes Kobo, but a side holding nothing is never a source."""
    koreader = position(0.6, at=0)
    agreed = AgreedState(position(0.6, at=0), koreader)
    decision = decide(unopened(), koreader, agreed, DEFAULTS)
    assert (decision.transfer, decision.position) == (Transfer.PUSH, koreader)


def test_row_8_without_ledger_only_kobo_holds_progress_so_it_is_pulled() -> None:
    kobo = position(0.25)
    decision = decide(kobo, None, None, DEFAULTS)
    assert (decision.transfer, decision.position, decision.scenario) == (Transfer.PULL, kobo, Scenario.NEWER)


def test_row_8_unopened_kobo_book_is_never_pulled_over_koreader_progress() -> None:
    koreader = position(0.4)
    decision = decide(unopened(), koreader, None, DEFAULTS)
    assert (decision.transfer, decision.position) == (Transfer.PUSH, koreader)


def test_row_8_later_kobo_timestamp_pulls() -> None:
    kobo = position(0.5, at=10)
    assert decide(kobo, position(0.4, at=9), None, DEFAULTS).transfer is Transfer.PULL


def test_row_8_later_koreader_timestamp_pushes() -> None:
    koreader = position(0.5, at=10)
    assert decide(position(0.4, at=9), koreader, None, DEFAULTS).transfer is Transfer.PUSH


def test_row_8_a_timestamp_one_second_later_is_enough() -> None:
    assert decide(position(0.5, at=1 / 60), position(0.4, at=0), None, DEFAULTS).transfer is Transfer.PULL
    assert decide(position(0.4, at=0), position(0.5, at=1 / 60), None, DEFAULTS).transfer is Transfer.PUSH


def test_row_8_missing_kobo_timestamp_counts_as_oldest() -> None:
    assert decide(position(0.5), position(0.6, at=0), None, DEFAULTS).transfer is Transfer.PUSH


def test_row_8_missing_koreader_timestamp_counts_as_oldest() -> None:
    assert decide(position(0.6, at=0), position(0.5), None, DEFAULTS).transfer is Transfer.PULL


def test_row_8_both_changed_since_the_ledger_falls_back_to_timestamps() -> None:
    agreed = AgreedState(position(0.2, at=0), position(0.2, at=0))
    decision = decide(position(0.5, at=20), position(0.4, at=10), agreed, DEFAULTS)
    assert decision.transfer is Transfer.PULL
    decision = decide(position(0.4, at=10), position(0.5, at=20), agreed, DEFAULTS)
    assert decision.transfer is Transfer.PUSH


def test_row_9_timestamps_equal_to_the_second_are_ambiguous() -> None:
    read_at = minute(0).replace(microsecond=900_000)
    kobo = position(0.5).with_updated_at(read_at)
    koreader = position(0.4).with_updated_at(read_at.replace(microsecond=100))
    decision = decide(kobo, koreader, None, DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.AMBIGUOUS)


def test_row_9_both_timestamps_missing_is_ambiguous() -> None:
    decision = decide(position(0.5), position(0.4), None, DEFAULTS)
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.AMBIGUOUS)


def test_row_10_pull_switched_off_is_direction_disabled() -> None:
    decision = decide(position(0.5, at=10), position(0.4, at=1), None, SyncPolicy(from_kobo=False))
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.DIRECTION_DISABLED)
    assert decision.scenario is Scenario.NEWER


def test_row_10_push_switched_off_is_direction_disabled() -> None:
    decision = decide(position(0.5, at=1), position(0.4, at=10), None, SyncPolicy(to_kobo=False))
    assert (decision.transfer, decision.reason) == (Transfer.SKIP, Reason.DIRECTION_DISABLED)
    assert decision.scenario is Scenario.OLDER


def test_row_10_switching_one_direction_off_leaves_the_other() -> None:
    assert decide(position(0.5, at=10), None, None, SyncPolicy(to_kobo=False)).transfer is Transfer.PULL
    push = decide(unopened(), position(0.5, at=10), None, SyncPolicy(from_kobo=False))
    assert push.transfer is Transfer.PUSH


def test_row_11_going_back_is_older_and_never_applied_by_default() -> None:
    decision = decide(position(0.2, at=10), position(0.6, at=1), None, DEFAULTS)
    assert (decision.transfer, decision.reason, decision.scenario) == (
        Transfer.SKIP,
        Reason.POLICY_NEVER,
        Scenario.OLDER,
    )


def test_row_11_a_finished_target_counts_as_one_hundred_percent() -> None:
    decision = decide(position(0.2, FINISHED, at=1), position(0.9, at=10), None, DEFAULTS)
    assert (decision.scenario, decision.reason) == (Scenario.OLDER, Reason.POLICY_NEVER)


def test_row_11_a_finished_source_is_newer_than_any_progress() -> None:
    kobo = position(0.3, FINISHED, at=10)
    decision = decide(kobo, position(0.9, at=1), None, DEFAULTS)
    assert (decision.transfer, decision.scenario, decision.position) == (Transfer.PULL, Scenario.NEWER, kobo)


def test_row_11_equal_progress_with_a_different_status_is_newer() -> None:
    decision = decide(position(0.5, FINISHED, at=10), position(1.0, READING, at=1), None, DEFAULTS)
    assert (decision.transfer, decision.scenario) == (Transfer.PULL, Scenario.NEWER)


def test_row_11_pulling_onto_a_book_without_sidecar_is_newer() -> None:
    decision = decide(position(0.01, at=1), None, None, DEFAULTS)
    assert decision.scenario is Scenario.NEWER


def test_row_11_moving_forward_is_newer_and_silent_by_default() -> None:
    decision = decide(position(0.2, at=1), position(0.6, at=10), None, DEFAULTS)
    assert (decision.transfer, decision.scenario, decision.needs_confirmation) == (
        Transfer.PUSH,
        Scenario.NEWER,
        False,
    )
    assert decision.reason is None


def test_declined_prompt_is_skip_declined_and_writes_nothing() -> None:
    asked = decide(position(0.7, at=10), position(0.4, at=1), None, SyncPolicy(from_kobo_newer=Action.PROMPT))
    assert asked.needs_confirmation
    declined = asked.declined()
    assert (declined.transfer, declined.reason, declined.needs_confirmation) == (
        Transfer.SKIP,
        Reason.DECLINED,
        False,
    )
    assert declined.direction is None
    assert declined.scenario is Scenario.NEWER


def test_a_skip_has_no_direction() -> None:
    assert decide(unopened(), None, None, DEFAULTS).direction is None
