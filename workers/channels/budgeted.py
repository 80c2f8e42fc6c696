"""A channel that sends to one destination only as often as its budget allows (``sms``)."""

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.rate_limits.budgets import RateLimits
from services.rate_limits.message_budgets import MessageKind, spend_message_budget
from workers.channels.base import Channel, Delivery, PermanentSendError, RetryableSendError

OVER_BUDGET = "message budget for this destination is spent"


class BudgetedChannel:
    """Counts each send to ``to`` against the ``kind`` budget before the provider
    sees it. Over budget the message fails for good: booking churn must not become
    a stream of texts to a number nobody controls. Without Redis it waits (fail
    closed: nothing goes out unbudgeted)."""

    def __init__(
        self, inner: Channel, redis: "Redis", limits: RateLimits, kind: MessageKind
    ) -> None:
        self._inner = inner
        self._redis = redis
        self._limits = limits
        self._kind = kind

    async def send(self, *, to: str, subject: str, body: str) -> Delivery:
        try:
            wait = await spend_message_budget(self._redis, self._limits, self._kind, to)
        except RedisError as error:
            raise RetryableSendError(
                f"message budget unavailable: {type(error).__name__}"
            ) from error
        if wait:
            raise PermanentSendError(f"{OVER_BUDGET} (next in {wait} s)")
        return await self._inner.send(to=to, subject=subject, body=body)
