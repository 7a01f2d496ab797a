from domain import ReadingPosition, ReadingStatus, SyncPolicy, decide


def test_an_unopened_book_on_both_sides_has_nothing_to_sync():
    kobo = ReadingPosition(0.0, ReadingStatus.UNOPENED)
    assert decide(kobo, None, None, SyncPolicy()).reason is not None
