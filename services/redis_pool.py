"""The Redis client of a process: a bounded pool, timeouts, and a gate for outages."""

from collections.abc import Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis

from services.redis_replies import with_fair_replies


class GatedConnectionPool(BlockingConnectionPool):
    """Asks ``gate`` before handing out a connection: while Redis is known to be down
    it raises Redis's ConnectionError at once, instead of a wait for a socket timeout.

    A free connection, with nobody waiting for one, is taken and given back without the
    blocking pool's lock, timeout and notification: a GET then costs about 15 % less of
    the process's CPU (`python -m bench.redis_command`), and every request makes two or
    three commands. Only while some caller waits does a connection go through them, so
    waiters are served in turn, as before. Nothing is awaited between looking and
    taking, so the event loop cannot interleave another caller there."""

    def __init__(self, *, gate: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self._waiting = 0  # callers inside the blocking pool's get_connection

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        if self.gate is not None:
            self.gate()
        if self._waiting == 0 and self._available_connections:
            connection = self._available_connections.pop()
            self._in_use_connections.add(connection)
            try:
                await self.ensure_connection(connection)
            except BaseException:
                await self.release(connection)
                raise
            return connection
        self._waiting += 1
        try:
            return await super().get_connection(*args, **kwargs)
        finally:
            self._waiting -= 1

    async def release(self, connection: Any) -> None:
        if self._waiting == 0:
            await ConnectionPool.release(self, connection)
        else:
            await super().release(connection)


# Waiting for a free connection measures this process's own congestion, not Redis:
# a burst of requests on a busy event loop holds every connection until the loop
# reads their replies. Refusing them at the reply timeout turned a burst of 100
# bookings into 50 SERVICE_UNAVAILABLE with Redis idle; the request deadline bounds
# the wait instead, and while Redis is down the gate refuses before any wait.
POOL_WAIT_SECONDS = 10.0


def redis_client(
    url: str, *, max_connections: int, timeout_ms: int, gate: Callable[[], None] | None = None
) -> Redis:
    """At most ``max_connections`` (MEDAPPT_REDIS_MAX_CONNECTIONS); a reply (and a new
    connection) is waited for ``timeout_ms`` (MEDAPPT_REDIS_TIMEOUT_MS) of Redis's time,
    not of stalls of this process's event loop (services/redis_replies.py), a free
    connection up to POOL_WAIT_SECONDS."""
    seconds = timeout_ms / 1000
    pool = GatedConnectionPool.from_url(
        url,
        gate=gate,
        max_connections=max_connections,
        timeout=max(seconds, POOL_WAIT_SECONDS),
        socket_timeout=seconds,
        socket_connect_timeout=seconds,
    )
    with_fair_replies(pool)
    # from_pool: closing the client closes its connections too.
    return Redis.from_pool(pool)
