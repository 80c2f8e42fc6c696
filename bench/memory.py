"""``python -m bench.memory``: the resident memory of ``medappt serve --workers N`` (its
largest process, as ``bench.report`` reads it) once ready, then at its highest through
the closed loops of ``bench.report``'s process rows (cache hits at half the concurrency,
then bookings) at each concurrency given. RSS does not come down after a burst (the
allocator keeps what it got), so the highest reading is the one that counts::

    python -m bench.memory --workers 1 --concurrency 16,256 \\
        --database-url postgresql://postgres@127.0.0.1:5432/medappt_bench_speed \\
        --redis-url redis://127.0.0.1:6379/8
"""

import argparse
import asyncio
import contextlib
import random
import sys
from collections.abc import Sequence

import asyncpg
import uvloop
from redis.asyncio import Redis

from bench.api_server import running_api
from bench.load import client_session
from bench.report.processes import measure, rss_mb
from bench.scheduling.fixture import load_fixture
from bench.scheduling.harness import Harness
from bench.scheduling.options import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, parse_options

SAMPLE_S = 0.25


async def _highest(pid: int, stop: asyncio.Event) -> float:
    highest = rss_mb(pid)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_S)
        highest = max(highest, rss_mb(pid))
    return highest


async def run(args: argparse.Namespace) -> None:
    urls = ["--database-url", args.database_url, "--redis-url", args.redis_url]
    options = parse_options(
        [*urls, "--duration", str(args.duration), "--warmup", "1", "--quiet-wait", "0"]
    )
    redis = Redis.from_url(options.redis_url)
    stats = await asyncpg.connect(options.database_url)
    try:
        fixture = await load_fixture(options.database_url, redis, random.Random(options.seed))  # noqa: S311
        with running_api(options.database_url, options.redis_url, workers=args.workers) as server:
            print(f"ready: RSS {rss_mb(server.pid):.0f} MB", file=sys.stderr)
            stop = asyncio.Event()
            sampler = asyncio.create_task(_highest(server.pid, stop))
            async with client_session(options.connections, options.timeout_s) as http:
                harness = Harness(
                    options, server, http=http, redis=redis, fixture=fixture, stats=stats
                )
                for concurrency in args.concurrency:
                    await measure(harness, server, args.workers, concurrency)
            stop.set()
            print(f"highest under load: RSS {await sampler:.0f} MB", file=sys.stderr)
    finally:
        await stats.close()
        await redis.flushdb()
        await redis.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="API processes (serve --workers)")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[16],
        help="closed-loop requests in flight, one round each (default: 16)",
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured per row")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed")
    uvloop.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
