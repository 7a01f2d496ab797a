"""``DateLastRead`` and friends: Nickel's timestamps, parsed leniently and written strictly.

Nickel writes ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), but rows touched by other tools carry fractions,
``+00:00`` or other offsets, a space instead of ``T``, no zone at all, or just a date
(docs/reference/kobo.md §5). Every form is read as the instant it names, zone-less ones as UTC.
Writing always uses Nickel's own form, because tools compare these values as strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

KOBO_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_TIMESTAMP = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    (?:[T\ ]
        (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?
        \s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)


def parse_kobo_date(value: object) -> datetime | None:
    """The timezone-aware UTC instant a Nickel date column names, or None if it names none.

    Placeholders such as ``0000-00-00T00:00:00.000`` and anything that is not a date are None.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        return None
    parts = match.groupdict()
    fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
    try:
        moment = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction),
            tzinfo=_zone(parts["zone"]),
        )
    except ValueError:  # out-of-range fields or offsets: not a real instant
        return None
    return moment.astimezone(UTC)


def format_kobo_date(moment: datetime) -> str:
    """Nickel's own form, in UTC and whole seconds; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(KOBO_DATE_FORMAT)


def _zone(zone: str | None) -> timezone:
    if zone is None or zone.upper() == "Z":
        return UTC
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if zone.startswith("-") else offset)
