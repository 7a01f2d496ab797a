"""``kksync sync --dry-run`` says what a sync would write and writes nothing at all."""

from __future__ import annotations

import pytest

from tests.e2e.cli.devices import MAIN_PULLS, MAIN_PUSHES, by_book, file_hashes, sync_json
from tests.e2e.cli.real_fixture import BOOKMARKED


@pytest.mark.parametrize(
    ("device", "pulls", "pushes"),
    [
        ("main_device", MAIN_PULLS, MAIN_PUSHES),
        ("real_device", tuple(book.book_id for book in BOOKMARKED), ()),
    ],
)
def test_a_dry_run_lists_the_changes_and_leaves_no_trace(
    request: pytest.FixtureRequest, device: str, pulls: tuple[str, ...], pushes: tuple[str, ...]
) -> None:
    layout = request.getfixturevalue(device)()
    before = file_hashes(layout.root, include_backups=True)
    report = sync_json(layout.root, "--dry-run")
    assert file_hashes(layout.root, include_backups=True) == before
    assert not layout.kksync_dir.exists()  # no backup folder, no ledger
    assert report["dry_run"] is True and report["backup"] is None
    assert (report["summary"]["pulled"], report["summary"]["pushed"]) == (len(pulls), len(pushes))
    books = by_book(report)
    assert not any(book["written"] for book in books.values())
    for book_id in pulls:
        assert books[book_id]["decision"] == "PULL"
        assert any(change.startswith("KOReader last_xpointer = ") for change in books[book_id]["changes"])
    for book_id in pushes:
        assert books[book_id]["decision"] == "PUSH"
        assert any(change.startswith("Kobo ChapterIDBookmarked = ") for change in books[book_id]["changes"])
