from functools import cache
from zoneinfo import ZoneInfo

from domain.validation import zone_problem
from services.errors import BadUserInput


def clinic_zone(name: str) -> ZoneInfo:
    """An IANA zone of a place by name; anything else (abbreviations, offsets,
    ``localtime``) is refused."""
    if zone_problem(name) is not None:
        raise BadUserInput(f"{name!r} is not an IANA time zone such as 'Europe/Berlin'.")
    return ZoneInfo(name)


@cache
def stored_zone(name: str) -> ZoneInfo:
    """A zone named in the database (checked when it was written), held for the life of
    the process: ZoneInfo's own cache lets go of zones nobody holds, and loading one
    again reads its file."""
    return ZoneInfo(name)
