"""The event loop blocked past a timeout (a garbage-collector pass, CPU-bound work) while
the server answered: the answer counts, the server is not reported down. Once a guess of
test_login_limits came back SERVICE_UNAVAILABLE this way in a full run, whose heap made
a collector pass take over half a second. A server that does not answer still times out.

Each server is reached through a relay in the test's event loop, so that its answer
comes in only after the loop is free again, once the timeout has passed, as an answer
that a blocked loop left unread does."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable

import pytest
from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url

from services.rate_limits.budgets import RateLimits
from services.rate_limits.request_budgets import REDIS_TIMEOUT_SECONDS, charge_request
from services.redis_pool import redis_client
from services.server_health import DatabaseProbe, RedisProbe
from tests.support.servers import Servers

TIMEOUT_MS = 100
BLOCKED_SECONDS = 0.4  # well past TIMEOUT_MS


@contextlib.asynccontextmanager
async def _relayed(url: str, reply_stalls: list[float] | None = None) -> AsyncIterator[str]:
    """``url`` through a relay in this event loop: what it forwards waits for the loop.
    Each of ``reply_stalls`` blocks the loop that long before a reply is passed on."""
    target = make_url(url)
    tasks: set[asyncio.Task[None]] = set()
    stalls = reply_stalls if reply_stalls is not None else []

    async def pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stalls: list[float]
    ) -> None:
        try:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(65536):
                    if stalls:
                        time.sleep(stalls.pop(0))  # noqa: ASYNC251 - the stall under test
                    writer.write(data)
                    await writer.drain()
        finally:  # cancelled at the end too
            writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await asyncio.open_connection(target.host, target.port)
        for task in (pipe(reader, upstream[1], []), pipe(upstream[0], writer, stalls)):
            tasks.add(asyncio.create_task(task))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        yield target.set(port=port).render_as_string(hide_password=False)
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def _blocked_after_the_next_send(client: Redis, seconds: float = BLOCKED_SECONDS) -> None:
    """The loop is blocked for ``seconds`` right after the client's next command is
    sent, while its reply is awaited."""
    (connection,) = client.connection_pool._available_connections
    send = connection.send_packed_command

    async def send_then_block(
        command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        await send(command, check_health)
        connection.send_packed_command = send  # type: ignore[method-assign]
        asyncio.get_running_loop().call_soon(time.sleep, seconds)

    connection.send_packed_command = send_then_block  # type: ignore[method-assign]


@pytest.fixture
async def redis_url(servers: Servers) -> AsyncIterator[str]:
    async with _relayed(servers.redis_url) as url:
        yield url


async def _client(url: str, timeout_ms: int) -> Redis:
    client = redis_client(url, max_connections=2, timeout_ms=timeout_ms)
    await client.set("stalled:key", b"v")  # one connection, made and free
    return client


async def test_a_reply_that_came_while_the_loop_was_blocked_is_read(redis_url: str) -> None:
    client = await _client(redis_url, TIMEOUT_MS)
    try:
        _blocked_after_the_next_send(client)
        count = await client.incr("stalled:count")
        counted = await client.getdel("stalled:count")
    finally:
        await client.delete("stalled:key")
        await client.aclose()

    assert (count, counted) == (1, b"1")


async def test_a_reply_that_came_while_the_loop_was_blocked_twice_is_read(
    servers: Servers,
) -> None:
    """Blocked after the send, and again once the reply has come in, past the deadline
    the first block moved out (a burst of requests run after a collector pass, or a
    second pass). Before, the deadline moved out once only, and the reply was lost."""
    stalls: list[float] = []
    async with _relayed(servers.redis_url, stalls) as url:
        client = await _client(url, TIMEOUT_MS)
        try:
            _blocked_after_the_next_send(client)
            stalls.append(BLOCKED_SECONDS)
            count = await client.incr("stalled:count")
            counted = await client.getdel("stalled:count")
        finally:
            await client.delete("stalled:key")
            await client.aclose()

    assert (stalls, count, counted) == ([], 1, b"1")


async def test_a_connection_opened_while_the_loop_was_blocked_is_used(redis_url: str) -> None:
    """The kernel completes a connect to a healthy Redis at once; the loop learns of it
    only when free again. Before, redis-py's own connect timeout expired first, and a
    burst of requests opening connections got SERVICE_UNAVAILABLE."""
    client = redis_client(redis_url, max_connections=2, timeout_ms=TIMEOUT_MS)
    try:
        asyncio.get_running_loop().call_soon(time.sleep, BLOCKED_SECONDS)
        count = await client.incr("stalled:count")  # connects first: the pool is empty
        counted = await client.getdel("stalled:count")
    finally:
        await client.aclose()

    assert (count, counted) == (1, b"1")


async def test_a_login_charged_while_the_loop_was_blocked_goes_through(redis_url: str) -> None:
    # Replies waited for longer than the charge as a whole (REDIS_TIMEOUT_SECONDS), and
    # the loop blocked past the charge's own timeout.
    client = await _client(redis_url, 10 * TIMEOUT_MS + int(1000 * REDIS_TIMEOUT_SECONDS))
    keys = ("stalled:key", "ratelimit:ip:192.0.2.9", "ratelimit:login:192.0.2.9")
    try:
        _blocked_after_the_next_send(client, 2 * REDIS_TIMEOUT_SECONDS)
        # Not ServiceUnavailable("Sign-up and sign-in are unavailable; try again.")
        await charge_request(
            client, RateLimits(), ip="192.0.2.9", user_id=None, cost=1, registrations=0, logins=1
        )
        tokens = await client.hget("ratelimit:login:192.0.2.9", "tokens")  # type: ignore[misc]
    finally:
        await client.delete(*keys)
        await client.aclose()

    assert tokens == str(RateLimits().login.count - 1).encode()


async def test_a_redis_that_does_not_answer_still_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # reads every command, answers none
        finally:
            writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = redis_client(f"redis://127.0.0.1:{port}/0", max_connections=1, timeout_ms=TIMEOUT_MS)
    try:
        with pytest.raises(RedisTimeoutError) as raised:
            await client.get("stalled:key")
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()

    assert str(raised.value) == f"Timeout reading from 127.0.0.1:{port}"


async def test_probes_answered_while_the_loop_was_blocked_say_up(
    migrated: Servers, redis_url: str
) -> None:
    async with _relayed(migrated.database_url) as database_url:
        # Connecting, on a busy machine, may take longer than the probes below are given.
        database = DatabaseProbe(database_url, 10.0)
        redis = RedisProbe(redis_url, TIMEOUT_MS / 1000)
        try:
            warm = [await database(), await redis()]  # connected: a probe is one send
            database.timeout = TIMEOUT_MS / 1000
            # Sent before the probe first waits: the loop is blocked while it does.
            asyncio.get_running_loop().call_soon(time.sleep, BLOCKED_SECONDS)
            database_up = await database()
            _blocked_after_the_next_send(redis._client)
            redis_up = await redis()
        finally:
            database.close()
            await redis.close()

    assert (warm, database_up, redis_up) == ([True, True], True, True)
