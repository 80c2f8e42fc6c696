"""The instants calendar-dependent tests run at, with the domain's clock pinned there.

Every weekday at 00:30, 13:30 and 23:30 UTC (a late evening in UTC is already
tomorrow in Berlin, an early morning still yesterday in New York), and noon on
the eve of each of 2026's DST changes in New York and Berlin, when "24 hours
before" and "the same time tomorrow" part ways.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

A_MONDAY = date(2027, 1, 4)
DST_CHANGES_2026 = (
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
)


def _instants() -> list[object]:
    params: list[object] = []
    for offset in range(7):
        day = A_MONDAY + timedelta(days=offset)
        for at in (time(0, 30), time(13, 30), time(23, 30)):
            instant = datetime.combine(day, at, UTC)
            params.append(pytest.param(instant, id=f"{day:%a}-{at:%H%M}Z"))
    for zone, change in DST_CHANGES_2026:
        eve = datetime.combine(change - timedelta(days=1), time(12), ZoneInfo(zone))
        params.append(pytest.param(eve, id=f"eve-of-{change}-{zone.split('/')[1]}"))
    return params


CALENDAR_INSTANTS = _instants()
