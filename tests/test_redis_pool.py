"""The process's Redis pool (services/redis_pool.py): bounded, waiters served in turn,
and a free connection taken without the blocking pool's machinery."""

import asyncio

import pytest
from redis.asyncio import BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from services.redis_pool import GatedConnectionPool, redis_client
from tests.support.servers import Servers


async def test_a_free_connection_is_taken_without_the_blocking_pools_lock(
    servers: Servers,
) -> None:
    client = redis_client(servers.redis_url, max_connections=3, timeout_ms=2000)
    pool = client.connection_pool
    assert isinstance(pool, GatedConnectionPool)
    blocking_calls: list[str] = []
    original = BlockingConnectionPool.get_connection

    async def counted(self: BlockingConnectionPool, *args: object, **kwargs: object) -> object:
        blocking_calls.append("get_connection")
        return await original(self, *args, **kwargs)

    try:
        await client.set("pool:key", b"v")  # the first connection is made the blocking way
        BlockingConnectionPool.get_connection = counted  # type: ignore[method-assign]
        values = [await client.get("pool:key") for _ in range(5)]
    finally:
        BlockingConnectionPool.get_connection = original  # type: ignore[method-assign]
        await client.delete("pool:key")
        await client.aclose()

    assert values == [b"v"] * 5
    assert blocking_calls == []
    assert (len(pool._in_use_connections), len(pool._available_connections)) == (0, 1)


async def test_a_burst_past_the_bound_waits_its_turn_and_every_command_is_answered(
    servers: Servers,
) -> None:
    client = redis_client(servers.redis_url, max_connections=2, timeout_ms=2000)
    pool = client.connection_pool
    assert isinstance(pool, GatedConnectionPool)
    try:
        await client.set("pool:burst", b"v")
        answers = await asyncio.gather(*(client.get("pool:burst") for _ in range(200)))
    finally:
        await client.delete("pool:burst")
        await client.aclose()

    assert answers == [b"v"] * 200
    # Never more than the bound, all given back, nobody left counted as waiting.
    assert (len(pool._in_use_connections), len(pool._available_connections)) == (0, 2)
    assert pool._waiting == 0


async def test_the_gate_refuses_before_any_connection_is_taken(servers: Servers) -> None:
    def closed() -> None:
        raise RedisConnectionError("Redis is down")

    client = redis_client(servers.redis_url, max_connections=2, timeout_ms=2000, gate=None)
    pool = client.connection_pool
    assert isinstance(pool, GatedConnectionPool)
    try:
        await client.set("pool:gate", b"v")
        pool.gate = closed
        with pytest.raises(RedisConnectionError) as refused:
            await client.get("pool:gate")
        pool.gate = None
        after = await client.get("pool:gate")
    finally:
        await client.delete("pool:gate")
        await client.aclose()

    assert (str(refused.value), after) == ("Redis is down", b"v")
    assert (len(pool._in_use_connections), len(pool._available_connections)) == (0, 1)
