"""Hypothesis strategies for domain values, biased towards the edges the decision table cares about."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import settings
from hypothesis import strategies as st

from domain import Action, AgreedState, Chapter, Locator, ReadingPosition, ReadingStatus, SyncPolicy

# Deterministic runs so a mutation run judges every mutant against the same examples.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)

progress = st.one_of(st.sampled_from([0.0, 1.0, 0.005, 0.38, 0.384, 0.995]), st.floats(0.0, 1.0))
timestamps = st.one_of(
    st.none(),
    st.sampled_from([datetime(2025, 2, 4, 17, 17, second, tzinfo=UTC) for second in (15, 16)]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
locators = st.one_of(
    st.none(),
    st.builds(
        Locator,
        spine_index=st.integers(0, 3),
        chapter_href=st.just("text/part.xhtml"),
        fraction=st.floats(0.0, 1.0),
        kobo_span=st.one_of(st.none(), st.sampled_from(["", "kobo.1.1", "kobo.4.2"])),
        xpointer=st.one_of(st.none(), st.sampled_from(["/body/DocFragment[2]/body", "/body/p[3]"])),
    ),
)
positions = st.builds(ReadingPosition, progress, st.sampled_from(ReadingStatus), timestamps, locators)
maybe_positions = st.one_of(st.none(), positions)
actions = st.sampled_from(Action)
policies = st.builds(
    SyncPolicy,
    enabled=st.booleans(),
    auto_sync=st.booleans(),
    from_kobo=st.booleans(),
    to_kobo=st.booleans(),
    from_kobo_newer=actions,
    from_kobo_older=actions,
    to_kobo_newer=actions,
    to_kobo_older=actions,
)


@st.composite
def symmetric_policies(draw: st.DrawFn) -> SyncPolicy:
    """Both directions allowed or not alike, and the same action per scenario both ways."""
    allowed, newer, older = draw(st.booleans()), draw(actions), draw(actions)
    return SyncPolicy(
        enabled=draw(st.booleans()),
        from_kobo=allowed,
        to_kobo=allowed,
        from_kobo_newer=newer,
        from_kobo_older=older,
        to_kobo_newer=newer,
        to_kobo_older=older,
    )


def ledger_side(current: ReadingPosition | None) -> st.SearchStrategy[ReadingPosition | None]:
    """What the ledger recorded for a side: often exactly what it holds now, else anything."""
    return st.one_of(st.just(current), maybe_positions)


@st.composite
def ledgers_for(
    draw: st.DrawFn, kobo: ReadingPosition | None, koreader: ReadingPosition | None
) -> AgreedState | None:
    if draw(st.booleans()):
        return None
    return AgreedState(draw(ledger_side(kobo)), draw(ledger_side(koreader)))


# Chapter rows of any shape: negative, overlapping, zero, past the total.
any_chapters = st.lists(
    st.builds(
        Chapter,
        href=st.just("x.xhtml"),
        offset=st.one_of(st.integers(-5, 120).map(float), st.floats(-50.0, 200.0)),
        size=st.one_of(st.integers(-2, 40).map(float), st.floats(-10.0, 100.0)),
    ),
    max_size=12,
)
any_totals = st.one_of(st.none(), st.just(100.0), st.floats(-10.0, 300.0))
