"""Budgets for messages to one destination: verification and reset e-mails, appointment SMS.

Sending to any address someone types in is how SMS pumping and mail bombing
work, so each destination gets only so many messages per period, whoever asks.
"""

import hashlib
from typing import Literal

from redis.asyncio import Redis

from services.rate_limits.budgets import RateLimits
from services.rate_limits.token_buckets import Charge, spend

MessageKind = Literal["verify", "reset", "sms"]


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
