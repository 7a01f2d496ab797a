from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.kobo.dates import format_kobo_date, parse_kobo_date

T = datetime(2024, 9, 1, 20, 55, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2024-09-01T20:55:40Z", T),
        ("2024-09-01T20:55:40z", T),
        ("2024-09-01T20:55:40+00:00", T),
        ("2024-09-01T22:55:40+02:00", T),
        ("2024-09-01T15:25:40-05:30", T),
        ("2024-09-01T22:55:40+0200", T),
        ("2024-09-01T22:55:40+02", T),
        ("2024-09-01 20:55:40", T),
        ("2024-09-01T20:55:40", T),
        ("  2024-09-01T20:55:40Z ", T),
        ("2024-09-01T20:55:40.5Z", T.replace(microsecond=500_000)),
        ("2024-09-01T20:55:40.123", T.replace(microsecond=123_000)),
        ("2024-09-01T20:55:40.123456Z", T.replace(microsecond=123_456)),
        ("2024-09-01T20:55:40.1234567Z", T.replace(microsecond=123_456)),
        ("2024-01-15 14:30:00.000+00:00", datetime(2024, 1, 15, 14, 30, tzinfo=UTC)),
        ("2018-03-22T00:00:00.0000000", datetime(2018, 3, 22, tzinfo=UTC)),
        ("2024-09-01T20:55", T.replace(second=0)),
        ("2024-09-01", datetime(2024, 9, 1, tzinfo=UTC)),
        ("2024-12-31T23:30:00-01:00", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
    ],
)
def test_every_stored_form_is_read_as_the_utc_instant_it_names(stored: str, expected: datetime) -> None:
    parsed = parse_kobo_date(stored)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "   ",
        "0000-00-00T00:00:00.000",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-02-30",
        "2024-09-01T25:00:00Z",
        "2024-09-01T20:55:40+25:00",
        "2024/09/01 20:55:40",
        1725224140,
        "2024-09-01T20:55:40ZZ",
    ],
)
def test_unparseable_dates_are_none(stored: object) -> None:
    assert parse_kobo_date(stored) is None


def test_dates_are_written_in_nickels_form_in_utc_whole_seconds() -> None:
    local = datetime(2025, 6, 1, 12, 30, 45, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert format_kobo_date(local) == "2025-06-01T10:30:45Z"
    assert format_kobo_date(datetime(2025, 6, 1, 12, 30, 45)) == "2025-06-01T12:30:45Z"
    assert parse_kobo_date(format_kobo_date(T)) == T
