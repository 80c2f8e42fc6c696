"""CPU of one Redis command through the process's client (services/redis_pool.py) and
through redis-py's own pools, in process: ``python -m bench.redis_command
[--redis-url URL]`` (a Redis it may write one key to)."""

import argparse
import time

import uvloop
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis

from services.redis_pool import redis_client

CALLS = 3000
ROUNDS = 5


async def _cpu_per_get(client: Redis) -> float:
    """Microseconds of this process's CPU per GET, one round of CALLS."""
    started = time.process_time()
    for _ in range(CALLS):
        await client.get("bench:redis-command")
    return (time.process_time() - started) / CALLS * 1e6


async def _main(url: str) -> None:
    # The same timeouts as the product's client: a read under a timeout costs more.
    timeouts = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
    clients = {
        "the product's pool (services/redis_pool.py)": redis_client(
            url, max_connections=50, timeout_ms=2000
        ),
        "redis-py BlockingConnectionPool, same timeouts": Redis.from_pool(
            BlockingConnectionPool.from_url(url, max_connections=50, timeout=10, **timeouts)
        ),
        "redis-py ConnectionPool, same timeouts": Redis.from_pool(
            ConnectionPool.from_url(url, max_connections=50, **timeouts)
        ),
    }
    await next(iter(clients.values())).set("bench:redis-command", b"x" * 100)
    best = dict.fromkeys(clients, float("inf"))
    for _ in range(ROUNDS):  # in turns, so a busier moment weighs on each alike
        for name, client in clients.items():
            best[name] = min(best[name], await _cpu_per_get(client))
    await next(iter(clients.values())).delete("bench:redis-command")
    print("| pool | CPU µs per GET (best of 5 x 3,000, in turns) |\n|---|---:|")
    for name, client in clients.items():
        print(f"| {name} | {best[name]:.0f} |")
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    uvloop.run(_main(parser.parse_args().redis_url))


if __name__ == "__main__":
    main()
