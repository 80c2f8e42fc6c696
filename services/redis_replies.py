"""Redis connections that wait for replies and connects with FairTimeout (services/fair_timeout.py).

redis-py waits ``socket_timeout`` for each reply with asyncio's timeout, which expires
when the event loop was blocked past it even though Redis had answered: in a process
whose loop a garbage-collector pass held for 0.6 s, a failed-login count came back as
a Redis TimeoutError, and the login as SERVICE_UNAVAILABLE."""

import contextlib
from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.fair_timeout import FairTimeout


class _FairReplies(AbstractConnection):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Taken over from redis-py (which has already made it the connect timeout too,
        # if none was given). Sends are then not timed: a command fits in the socket's
        # buffers at once even while Redis hangs; its reply is what is waited for.
        self.reply_seconds = self.socket_timeout
        self.socket_timeout = None
        self.connect_seconds = self.socket_connect_timeout
        self.socket_connect_timeout = None

    async def _connect(self) -> None:
        # A connect to a healthy Redis completes at once in the kernel, but asyncio
        # learns of it on the loop: after a stall, redis-py's own timeout expired
        # first, and a burst of requests opening connections got SERVICE_UNAVAILABLE.
        seconds = self.connect_seconds
        async with FairTimeout(seconds) if seconds is not None else contextlib.nullcontext():
            await super()._connect()  # type: ignore[safe-super,no-untyped-call]

    async def read_response(
        self,
        disable_decoding: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - redis-py's signature
        *,
        disconnect_on_error: bool = True,
        push_request: bool | None = False,
    ) -> Any:
        if timeout is not None or self.reply_seconds is None:
            # A caller's own wait (pub/sub polls for a message): redis-py's, as before.
            return await super().read_response(
                disable_decoding,
                timeout,
                disconnect_on_error=disconnect_on_error,
                push_request=push_request,
            )
        try:
            async with FairTimeout(self.reply_seconds):
                return await super().read_response(
                    disable_decoding,
                    disconnect_on_error=disconnect_on_error,
                    push_request=push_request,
                )
        except TimeoutError:
            # As redis-py's own timeout: the connection was closed on the way out
            # (disconnect_on_error), so a late reply cannot answer the next command.
            raise RedisTimeoutError(f"Timeout reading from {self._host_error()}") from None


class FairConnection(_FairReplies, Connection):
    pass


class FairSSLConnection(_FairReplies, SSLConnection):
    pass


class FairUnixDomainSocketConnection(_FairReplies, UnixDomainSocketConnection):
    pass


_FAIR: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: FairConnection,
    SSLConnection: FairSSLConnection,
    UnixDomainSocketConnection: FairUnixDomainSocketConnection,
}


def with_fair_replies(pool: ConnectionPool) -> ConnectionPool:
    """``pool``, making connections of the same kind (redis://, rediss://, unix://, as
    ``from_url`` chose) whose replies are waited for fairly."""
    pool.connection_class = _FAIR[pool.connection_class]
    return pool
