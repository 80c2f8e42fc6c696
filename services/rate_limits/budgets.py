"""The budgets of ``MEDAPPT_RATE_LIMITS``: how much a client may spend, and how fast it refills."""

import re
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class Budget:
    """A bucket of ``count`` units that refills evenly over ``seconds``."""

    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The named budgets of the contract; ``enabled`` is False for ``off``.

    Defaults (README "Limits"): an IP gets 20 queries of the largest cost a
    minute (a clinic's shared address serves many people), a user half that;
    sign-ups are rare; logins match the failed-login limit per IP; messages
    stop SMS pumping and mail bombing without getting in a patient's way (per
    address, and per IP so that one client cannot spread them over many addresses).
    """

    ip: Budget = Budget(1_000_000, 60)  # cost points per client IP
    user: Budget = Budget(500_000, 60)  # cost points per signed-in user
    register: Budget = Budget(10, 3600)  # registerPatient fields per IP
    login: Budget = Budget(1000, 3600)  # login fields per IP
    verify: Budget = Budget(5, 3600)  # verification messages per address
    reset: Budget = Budget(5, 3600)  # password-reset messages per address
    sms: Budget = Budget(10, 86_400)  # appointment messages per phone number
    messages: Budget = Budget(50, 3600)  # verification and reset messages per client IP
    enabled: bool = True


NAMES = tuple(field.name for field in fields(RateLimits) if field.name != "enabled")
_ENTRY = re.compile(r"([a-z]+)=(\d+)/(\d+)s")


def parse_rate_limits(raw: str) -> RateLimits:
    """``ip=600/60s,register=10/3600s``: names left out keep their defaults; ``off``
    turns every budget off. Raises ValueError naming what is wrong."""
    text = raw.strip()
    if text == "off":
        return RateLimits(enabled=False)
    limits = RateLimits()
    for entry in filter(None, (piece.strip() for piece in text.split(","))):
        match = _ENTRY.fullmatch(entry)
        if match is None:
            raise ValueError(f"{entry!r} is not NAME=COUNT/SECONDSs")
        name, count, seconds = match[1], int(match[2]), int(match[3])
        if name not in NAMES:
            raise ValueError(f"{name!r} is not one of {', '.join(NAMES)}")
        if count == 0 or seconds == 0:
            raise ValueError(f"{entry!r} needs a positive count and period")
        limits = replace(limits, **{name: Budget(count, seconds)})  # type: ignore[arg-type]
    return limits
