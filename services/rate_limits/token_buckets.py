"""Token buckets in Redis: every bucket a request touches, checked and spent in one round trip.

The same round trip can first ask whether any of some keys exists (an access token's
revocation entries), so that a request pays for its door's checks once."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from services.rate_limits.budgets import Budget

# All or nothing: a request over any of its budgets spends from none, so a refused
# request costs its client nothing. Redis's own clock keeps every API process
# on one time. Replies with 0, or with the whole seconds until the request would fit,
# or with -1 when one of the keys after the buckets' exists (ARGV holds three values a
# bucket, so the keys beyond #ARGV / 3 are those to look for).
_SPEND = """
local buckets = #ARGV / 3
if #KEYS > buckets and redis.call('EXISTS', unpack(KEYS, buckets + 1)) > 0 then
  return -1
end
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local levels = {}
local wait = 0
for i = 1, buckets do
  local key = KEYS[i]
  local amount = tonumber(ARGV[3 * i - 2])
  local capacity = tonumber(ARGV[3 * i - 1])
  local seconds = tonumber(ARGV[3 * i])
  local rate = capacity / seconds
  local saved = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(saved[1]) or capacity
  local at = tonumber(saved[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if amount > capacity then
    wait = math.max(wait, seconds)
  elseif amount > tokens then
    wait = math.max(wait, (amount - tokens) / rate)
  end
end
if wait > 0 then
  return math.ceil(wait)
end
for i = 1, buckets do
  local seconds = tonumber(ARGV[3 * i])
  local left = levels[i] - tonumber(ARGV[3 * i - 2])
  redis.call('HSET', KEYS[i], 'tokens', tostring(left), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[i], math.ceil(seconds))
end
return 0
"""
_SPEND_SHA = hashlib.sha1(_SPEND.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
# What spend() returns when a key of ``unless_present`` exists.
PRESENT = -1


@dataclass(frozen=True, slots=True)
class Charge:
    """Take ``amount`` from the bucket ``key``, which holds ``budget``."""

    key: str
    amount: int
    budget: Budget


async def spend(
    redis: "Redis", charges: Sequence[Charge], *, unless_present: Sequence[str] = ()
) -> int:
    """Spend every charge, or none: 0 when spent, else the seconds to wait before
    the same request would fit (a request larger than a bucket waits a whole period).
    :data:`PRESENT`, spending nothing, when a key of ``unless_present`` exists."""
    charges = [charge for charge in charges if charge.amount > 0]
    if not charges and not unless_present:
        return 0
    keys = [charge.key for charge in charges] + list(unless_present)
    arguments: list[str] = []
    for charge in charges:
        arguments += map(str, (charge.amount, charge.budget.count, charge.budget.seconds))
    try:
        wait = await redis.evalsha(_SPEND_SHA, len(keys), *keys, *arguments)  # type: ignore[misc]
    except NoScriptError:  # a restarted Redis has forgotten it; EVAL teaches it again
        wait = await redis.eval(_SPEND, len(keys), *keys, *arguments)  # type: ignore[misc]
    return int(wait)
