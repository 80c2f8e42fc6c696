"""Budgets for messages to one destination: verification and reset e-mails, appointment SMS.

Sending to any address someone types in is how SMS pumping and mail bombing
work, so each destination gets only so many messages per period, whoever asks.
"""

import hashlib
from typing import Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.errors import RateLimited, ServiceUnavailable
from services.fair_timeout import FairTimeout
from services.rate_limits.budgets import RateLimits
from services.rate_limits.request_budgets import REDIS_TIMEOUT_SECONDS
from services.rate_limits.token_buckets import Charge, spend

MessageKind = Literal["verify", "reset", "sms"]
AccountMessageKind = Literal["verify", "reset"]


def destination_key(kind: MessageKind, address: str) -> str:
    # Hashed: the key space must not become a list of phone numbers and e-mails.
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{kind}:{digest}"


async def spend_message_budget(
    redis: "Redis", limits: RateLimits, kind: MessageKind, address: str
) -> int:
    """Count one message to ``address``: 0 if it may go now, else the seconds until
    it may. Redis errors propagate: a message is never sent unbudgeted (fail closed)."""
    if not limits.enabled:
        return 0
    budget = getattr(limits, kind)
    return await spend(redis, [Charge(destination_key(kind, address), 1, budget)])


async def require_account_message_budget(
    redis: "Redis", limits: RateLimits, kind: AccountMessageKind, address: str, ip: str | None
) -> None:
    """Count one verification or reset message to ``address``, asked for from ``ip``,
    against both budgets at once (all or nothing), whether or not an account has the
    address: the answer must not tell. Over either: RATE_LIMITED. Without Redis:
    SERVICE_UNAVAILABLE (fail closed: nothing goes out unbudgeted)."""
    if not limits.enabled:
        return
    charges = [
        Charge(destination_key(kind, address), 1, getattr(limits, kind)),
        Charge(f"ratelimit:messages:{ip or 'unknown'}", 1, limits.messages),
    ]
    try:
        async with FairTimeout(REDIS_TIMEOUT_SECONDS):
            wait = await spend(redis, charges)
    except (RedisError, TimeoutError) as error:
        raise ServiceUnavailable("Messages cannot be sent just now; try again.") from error
    if wait:
        raise RateLimited(f"Too many messages asked for; try again in {wait} s.", retry_after=wait)
