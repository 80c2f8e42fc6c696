from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.errors import BadUserInput


def clinic_zone(name: str) -> ZoneInfo:
    """An IANA zone by name; anything else (abbreviations, offsets) is refused."""
    if name not in _KNOWN:
        raise BadUserInput(f"{name!r} is not an IANA time zone such as 'Europe/Berlin'.")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise BadUserInput(f"{name!r} is not an IANA time zone such as 'Europe/Berlin'.") from None


_KNOWN = frozenset(available_timezones())
