"""Date, DateTime and Time, strict about what they accept.

Strawberry's own versions take any ISO 8601 date, including 0001-01-01 and
9999-12-31 (where a day's window overflows Python's datetime), and naive
date-times. These refuse such values while coercing, so a bad value is the
client's error wherever it is written: inline in the document or in the variables.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any

import strawberry
from graphql import GraphQLError, StringValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

from domain.validation import date_problem

NOT_A_DATE = "not a valid date in the form YYYY-MM-DD"
NOT_A_DATETIME = (
    "not a valid date and time in ISO 8601 form with a UTC offset, e.g. 2026-03-02T09:00:00-05:00"
)
NOT_A_TIME = "not a valid time of day in the form HH:MM or HH:MM:SS, without a UTC offset"


class _Refused(ValueError):
    """A well-formed value we do not accept; its message says why."""


def _parse_date(value: str) -> date:
    parsed = date.fromisoformat(value)
    if problem := date_problem(parsed):
        raise _Refused(problem)
    return parsed


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise _Refused(NOT_A_DATETIME)
    if problem := date_problem(parsed.date()):
        raise _Refused(problem)
    return parsed


def _parse_time(value: str) -> time:
    parsed = time.fromisoformat(value)
    if parsed.tzinfo is not None:
        raise _Refused(NOT_A_TIME)
    return parsed


# The texts of a date-time's parts: a few hundred days, the minutes of a day and a few
# UTC offsets are in use. An aware isoformat() asks the zone for its offset through
# Python each time, 2 µs; a day of slots shows some fifty, a page of records fifty.
_DAY_TEXTS: dict[int, str] = {}
_MINUTE_TEXTS: dict[int, str] = {}
_OFFSET_TEXTS: dict[tzinfo, str] = {}
_MAX_DAY_TEXTS = 4096


def datetime_text(value: datetime) -> str:
    """``value.isoformat()``; made from those parts at a fixed offset (every slot,
    appointment and record), the usual way in a zone whose offset changes."""
    zone = value.tzinfo
    if type(zone) is not timezone:
        return value.isoformat()
    offset = _OFFSET_TEXTS.get(zone)
    if offset is None:
        offset = _OFFSET_TEXTS[zone] = datetime(2000, 1, 1, tzinfo=zone).isoformat()[19:]
    day = _DAY_TEXTS.get(ordinal := value.toordinal())
    if day is None:
        if len(_DAY_TEXTS) >= _MAX_DAY_TEXTS:
            _DAY_TEXTS.clear()
        day = _DAY_TEXTS[ordinal] = value.date().isoformat()
    if value.second or value.microsecond:
        return day + "T" + value.time().isoformat() + offset
    minute = _MINUTE_TEXTS.get(of_day := value.hour * 60 + value.minute)
    if minute is None:
        minute = _MINUTE_TEXTS[of_day] = f"T{value.hour:02d}:{value.minute:02d}:00"
    return day + minute + offset


def _strict_scalar(
    name: str,
    description: str,
    parse: Callable[[str], object],
    shape: str,
    serialize: Callable[[Any], str] = lambda value: value.isoformat(),
) -> ScalarDefinition:
    def parse_value(value: object, node: ValueNode | None = None) -> object:
        if not isinstance(value, str):
            raise GraphQLError(shape, node)
        try:
            return parse(value)
        except _Refused as refused:
            raise GraphQLError(str(refused), node) from None
        except ValueError:
            # Python's own reasons ("month must be in 1..12") help nobody.
            raise GraphQLError(shape, node) from None

    def parse_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> object:
        # The node goes with the error: it tells which argument held the value.
        value = node.value if isinstance(node, StringValueNode) else None
        return parse_value(value, node)

    return strawberry.scalar(
        name=name,
        description=description,
        serialize=serialize,
        parse_value=parse_value,
        parse_literal=parse_literal,
    )


DATE = _strict_scalar(
    "Date", "A calendar date, 1900-01-01 to 2200-12-31: 2026-03-02.", _parse_date, NOT_A_DATE
)
DATETIME = _strict_scalar(
    "DateTime",
    "An instant with its UTC offset, 1900 to 2200: 2026-03-02T09:00:00-05:00.",
    _parse_datetime,
    NOT_A_DATETIME,
    datetime_text,
)
TIME = _strict_scalar("Time", "A time of day, without offset: 09:30.", _parse_time, NOT_A_TIME)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {date: DATE, datetime: DATETIME, time: TIME}
