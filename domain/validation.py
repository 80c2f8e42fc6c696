"""Limits on what people type, checked before anything reaches the database.

Each check returns what is wrong with a value as a short phrase ("at most 200
characters"), or None; the caller names the field it came from.
"""

import importlib.resources
import re
from datetime import date
from typing import Final

# RFC 5321: a path is at most 256 octets, two of them the angle brackets.
MAX_EMAIL_LENGTH: Final = 254
MAX_EMAIL_LOCAL_LENGTH: Final = 64
# PostgreSQL's dates go further, but zones and clocks have no meaning outside these,
# and a day's UTC window (a day either side) must stay within Python's datetime.
FIRST_DATE: Final = date(1900, 1, 1)
LAST_DATE: Final = date(2200, 12, 31)

# C0 and C1 controls and DEL; PostgreSQL refuses NUL, nobody types the others.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Half a UTF-16 pair, as JSON's "\ud800" decodes: not encodable as UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")
_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_EMAIL_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_DOMAIN_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")


def text_problem(
    value: str, max_length: int, *, multiline: bool = False, blank: bool = True
) -> str | None:
    """Too long, control characters (line breaks only where ``multiline``), text that
    is not Unicode, or (unless ``blank``) nothing but spaces."""
    if len(value) > max_length:
        return f"at most {max_length} characters"
    if (_CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL).search(value):
        return "must not contain control characters"
    if _SURROGATE.search(value):
        return "must be valid Unicode (an unpaired surrogate was sent)"
    if not blank and not value.strip():
        return "must not be blank"
    return None


def email_problem(value: str) -> str | None:
    """A mailbox ``local@domain.tld`` of at most 254 characters (spaces around it aside)."""
    email = value.strip()
    if len(email) > MAX_EMAIL_LENGTH:
        return f"at most {MAX_EMAIL_LENGTH} characters"
    local, at, domain = email.rpartition("@")
    labels = domain.split(".")
    valid = (
        at
        and len(local) <= MAX_EMAIL_LOCAL_LENGTH
        and _EMAIL_LOCAL.fullmatch(local)
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
    )
    return None if valid else "not a valid e-mail address"


def phone_problem(value: str) -> str | None:
    return None if _E164.fullmatch(value) else "must be in E.164 form, e.g. +14155550123"


def zone_problem(value: str) -> str | None:
    """Only the zones of places that the tz database lists in zone.tab, and UTC: no
    ``localtime``, ``Factory``, abbreviations or retired aliases such as ``US/Eastern``."""
    if value in _PLACE_ZONES:
        return None
    return "not an IANA time zone such as Europe/Berlin"


def date_problem(value: date) -> str | None:
    if FIRST_DATE <= value <= LAST_DATE:
        return None
    return f"must be between {FIRST_DATE} and {LAST_DATE}"


def _place_zones() -> frozenset[str]:
    table = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    rows = (line.split("\t") for line in table.splitlines() if not line.startswith("#"))
    return frozenset({row[2] for row in rows if len(row) >= 3} | {"UTC", "Etc/UTC"})


_PLACE_ZONES: Final = _place_zones()
