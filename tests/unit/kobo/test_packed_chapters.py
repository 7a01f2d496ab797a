"""Chapter rows kept packed (no BookID, ContentIDs' common start once) convert to the same records."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.kobo.library import (
    _ChapterColumns,
    _chapters,
    _chapters_from_packed,
    _packed_rows,
)

COLUMNS = ("ContentID", "BookID", "VolumeIndex", "___FileOffset", "___FileSize", "___PercentRead")
AT = _ChapterColumns.of(COLUMNS)
BOOK_IDS = ["0RDTATJQNHSQ0", "file:///mnt/onboard/Bücher/Émile – vol 4.kepub.epub", "c00698f0-3836"]
stored = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
spine_paths = st.text(alphabet="abcé–/!._ ", max_size=30)


@st.composite
def chapter_rows(draw: st.DrawFn) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    book_id = draw(st.sampled_from(BOOK_IDS))
    start = draw(st.sampled_from([book_id.removeprefix("file://") + "!OEBPS!", book_id + "!", ""]))
    paths = draw(st.lists(spine_paths, min_size=1, max_size=12))
    rows = tuple(
        (start + path, book_id, draw(stored), draw(stored), draw(stored), draw(stored)) for path in paths
    )
    return book_id, rows


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return left == right and type(left) is type(right)


@given(chapter_rows())
def test_packed_rows_give_exactly_the_records_of_the_rows_themselves(
    case: tuple[str, tuple[tuple[Any, ...], ...]],
) -> None:
    book_id, rows = case
    packed = _packed_rows(rows, AT)
    assert packed is not None
    from_packed = _chapters_from_packed(book_id, packed, AT)
    from_rows = _chapters(book_id, rows, AT)
    assert len(from_packed) == len(from_rows)
    for mine, theirs in zip(from_packed, from_rows, strict=True):
        for field in ("content_id", "zip_path", "volume_index", "offset", "size", "percent_read"):
            assert _same(getattr(mine, field), getattr(theirs, field)), field


def test_a_sideloaded_book_keeps_its_long_path_once() -> None:
    book_id = BOOK_IDS[1]
    rows = tuple(
        (f"/mnt/onboard/Bücher/Émile – vol 4.kepub.epub!OEBPS!Text/chapter{n:02}.xhtml", book_id, n, n, 1, 0)
        for n in range(30)
    )
    packed = _packed_rows(rows, AT)
    assert packed is not None
    assert packed.count("Émile".encode()) == 1
    assert len(packed) < len(repr(rows)) / 4


def test_rows_json_cannot_hold_are_kept_as_they_are() -> None:
    rows = (("0RDTATJQNHSQ0!OEBPS!a.xhtml", "0RDTATJQNHSQ0", 0, b"\x00", 1, 0),)
    assert _packed_rows(rows, AT) is None
