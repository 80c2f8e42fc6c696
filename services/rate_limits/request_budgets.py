"""What one API request spends: cost points per IP and per user, sign-ups and logins per IP.

One Redis round trip, which also asks whether the caller's access token was revoked.
When Redis cannot answer, reads and ordinary mutations of anonymous callers go through
(fail open: an outage of the limiter must not become an outage of the API), while
sign-ups, logins and signed-in callers are refused as SERVICE_UNAVAILABLE (fail closed:
sign-ups and logins are what an attacker would pour through the gap, and without Redis a
revoked token would pass).
"""

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.auth.tokens import INVALID_ACCESS_TOKEN
from services.errors import RateLimited, ServiceUnavailable, Unauthenticated
from services.fair_timeout import FairTimeout
from services.metrics import RATE_LIMITED
from services.outages import UNAVAILABLE_MESSAGE
from services.rate_limits.budgets import RateLimits
from services.rate_limits.token_buckets import PRESENT, Charge, spend

logger = logging.getLogger("services.rate_limits")
_REFUSED = RATE_LIMITED.labels(limit="request")

# Longer than a healthy round trip by far; short enough that a hung Redis
# does not hold every request. Redis's time, not stalls of this event loop's
# (services/fair_timeout.py): a login is refused for an outage only if there is one.
REDIS_TIMEOUT_SECONDS = 0.5


async def charge_request(
    redis: "Redis",
    limits: RateLimits,
    *,
    ip: str | None,
    user_id: str | None,
    cost: int,
    registrations: int,
    logins: int,
    revocation_keys: tuple[str, ...] = (),
) -> None:
    """Spend from every budget the request touches, or refuse it with RATE_LIMITED;
    refuse it with UNAUTHENTICATED, spending nothing, when a key of ``revocation_keys``
    (services/auth/revoked_tokens.py) exists."""
    charges: list[Charge] = []
    if limits.enabled:
        client = ip or "unknown"
        # An operation costing more than a whole budget of points runs when the budget
        # is full, and empties it. Sign-ups and logins are counted one by one.
        charges += [
            Charge(f"ratelimit:ip:{client}", min(cost, limits.ip.count), limits.ip),
            Charge(f"ratelimit:register:{client}", registrations, limits.register),
            Charge(f"ratelimit:login:{client}", logins, limits.login),
        ]
        if user_id is not None:
            charges.append(
                Charge(f"ratelimit:user:{user_id}", min(cost, limits.user.count), limits.user)
            )
    elif not revocation_keys:
        return
    try:
        async with FairTimeout(REDIS_TIMEOUT_SECONDS):
            wait = await spend(redis, charges, unless_present=revocation_keys)
    except (RedisError, TimeoutError) as error:
        if revocation_keys:
            raise ServiceUnavailable(UNAVAILABLE_MESSAGE) from error
        if registrations or logins:
            raise ServiceUnavailable("Sign-up and sign-in are unavailable; try again.") from error
        logger.warning("rate limits unavailable, request let through: %s", type(error).__name__)
        return
    if wait == PRESENT:
        raise Unauthenticated(INVALID_ACCESS_TOKEN)
    if wait:
        _REFUSED.inc()
        raise RateLimited(
            f"Too many requests from this client; try again in {wait} s.", retry_after=wait
        )
