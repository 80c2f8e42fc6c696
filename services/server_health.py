"""Whether PostgreSQL and Redis answer, probed in the background, so that while one
does not, requests that need it are refused at once instead of each waiting on it."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import asyncpg
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from db.engine import asyncpg_dsn
from services.errors import ServiceUnavailable
from services.fair_timeout import FairTimeout
from services.metrics import SERVER_UP
from services.outages import UNAVAILABLE_MESSAGE
from services.redis_replies import with_fair_replies

logger = logging.getLogger("services.server_health")

Server = Literal["postgresql", "redis"]
# A probe every half second, each given a second: an outage is noticed within 1.5 s.
# The second is the server's: a probe the event loop could not read in time, because it
# was blocked (a garbage-collector pass, CPU-bound work), is not a failed one
# (services/fair_timeout.py); else one stall refused every request for half a second.
PROBE_INTERVAL_SECONDS = 0.5
PROBE_TIMEOUT_SECONDS = 1.0


class DatabaseProbe:
    """SELECT 1 over a connection of its own, outside the pool (which the probe gates)."""

    def __init__(self, database_url: str, timeout: float) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.timeout = timeout
        self._connection: asyncpg.Connection | None = None

    async def __call__(self) -> bool:
        try:
            async with FairTimeout(self.timeout):
                if self._connection is None or self._connection.is_closed():
                    self._connection = await asyncpg.connect(self.dsn)
                await self._connection.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self.close()
            return False
        return True

    def close(self) -> None:
        if self._connection is not None:
            # terminate(), not close(): a server that does not answer would hold close().
            self._connection.terminate()
            self._connection = None


class RedisProbe:
    def __init__(self, redis_url: str, timeout: float) -> None:
        pool = ConnectionPool.from_url(
            redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, max_connections=1
        )
        self._client = Redis.from_pool(with_fair_replies(pool))

    async def __call__(self) -> bool:
        try:
            await self._client.ping()
        except (RedisError, OSError):
            # A connection left mid-reply would read the stale answer next time.
            await self._client.connection_pool.disconnect()
            return False
        return True

    async def close(self) -> None:
        await self._client.aclose()


@dataclass
class ServerHealth:
    """The last verdict on each server. ``require_*`` refuse at once while it is down."""

    database_up: bool = True
    redis_up: bool = True

    def require_database(self) -> None:
        if not self.database_up:
            raise ServiceUnavailable(UNAVAILABLE_MESSAGE)

    def require_redis(self) -> None:
        # Redis's own error: callers already decide what its absence means
        # (rate limits let requests through, the slot cache computes the days).
        if not self.redis_up:
            raise RedisConnectionError("Redis is not answering this process's probes")

    @property
    def ready(self) -> bool:
        return self.database_up and self.redis_up

    def record(self, server: Server, up: bool) -> None:
        was_up = self.database_up if server == "postgresql" else self.redis_up
        if server == "postgresql":
            self.database_up = up
        else:
            self.redis_up = up
        SERVER_UP.labels(server=server).set(1 if up else 0)
        if up != was_up:
            if up:
                logger.warning("%s answers again", server)
            else:
                logger.error("%s is not answering: requests that need it are refused", server)


@contextlib.asynccontextmanager
async def monitored(
    database_url: str,
    redis_url: str,
    *,
    interval: float = PROBE_INTERVAL_SECONDS,
    probe_seconds: float = PROBE_TIMEOUT_SECONDS,
) -> AsyncIterator[ServerHealth]:
    """Probe both servers every ``interval`` while the block runs, giving each probe
    ``probe_seconds`` to answer."""
    health = ServerHealth()
    database = DatabaseProbe(database_url, probe_seconds)
    redis = RedisProbe(redis_url, probe_seconds)

    async def probe() -> None:
        database_up, redis_up = await asyncio.gather(database(), redis())
        health.record("postgresql", database_up)
        health.record("redis", redis_up)

    async def probe_forever() -> None:
        while True:
            await asyncio.sleep(interval)
            await probe()

    await probe()  # the first verdict before the first request
    task = asyncio.create_task(probe_forever(), name="server-health")
    try:
        yield health
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        database.close()
        await redis.close()


async def wait_for_servers(database_url: str, redis_url: str, wait_seconds: float | None) -> None:
    """Return once both servers answer; retry with backoff for up to ``wait_seconds``
    (``MEDAPPT_STARTUP_WAIT_S``; None: as long as it takes), then raise naming those
    that never did. 0 does not wait at all: the process starts whatever answers."""
    if wait_seconds == 0:
        return
    database = DatabaseProbe(database_url, PROBE_TIMEOUT_SECONDS)
    redis = RedisProbe(redis_url, PROBE_TIMEOUT_SECONDS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (wait_seconds if wait_seconds is not None else float("inf"))
    delay = 0.1
    try:
        while True:
            up = await asyncio.gather(database(), redis())
            answers = dict(zip(("PostgreSQL", "Redis"), up, strict=True))
            missing = [name for name, answered in answers.items() if not answered]
            if not missing:
                return
            left = deadline - loop.time()
            if left <= 0:
                raise ServiceUnavailable(
                    f"{' and '.join(missing)} did not answer within {wait_seconds:g} s"
                )
            logger.warning("waiting for %s", " and ".join(missing))
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 5.0)
    finally:
        database.close()
        await redis.close()
