"""The DateTime scalar's text is ``isoformat()``'s, however it is made."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from schema.scalars import datetime_text

FIXED_ZONES = st.builds(
    timezone, st.integers(min_value=-86_399, max_value=86_399).map(lambda s: timedelta(seconds=s))
)
WHOLE_MINUTES = st.datetimes(timezones=FIXED_ZONES).map(
    lambda value: value.replace(second=0, microsecond=0)
)


@given(st.one_of(WHOLE_MINUTES, st.datetimes(timezones=FIXED_ZONES)))
def test_the_text_of_a_fixed_offset_is_isoformats(value: datetime) -> None:
    assert datetime_text(value) == value.isoformat()
    assert datetime_text(value) == value.isoformat()  # the second time, from kept parts


@given(st.datetimes(timezones=st.timezones()))
def test_the_text_of_any_zone_is_isoformats(value: datetime) -> None:
    assert datetime_text(value) == value.isoformat()


def test_examples() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert datetime_text(datetime(2026, 3, 2, 9, 0, tzinfo=eastern)) == "2026-03-02T09:00:00-05:00"
    assert datetime_text(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) == "2026-03-02T09:30:00+00:00"
    assert datetime_text(datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC)) == "2026-03-02T09:30:01+00:00"
    assert (
        datetime_text(datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Europe/Paris")))
        == "2026-03-02T09:30:00+01:00"
    )
    assert (
        datetime_text(datetime(2026, 3, 2, 9, 30, 0, 120, tzinfo=eastern))
        == "2026-03-02T09:30:00.000120-05:00"
    )
