"""``python -m bench.scheduling``: start the API, run the chosen scenarios, cancel the
bench's bookings, print the report (the bench is described in :mod:`bench.scheduling`)."""

import os
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import uvloop
from redis.asyncio import Redis

from bench.api_server import running_api
from bench.git_commit import short_commit
from bench.load import client_session
from bench.scheduling import scenarios
from bench.scheduling.anatomy import AnatomyReport, anatomy
from bench.scheduling.bookings import Bookings
from bench.scheduling.fixture import load_fixture
from bench.scheduling.harness import Harness
from bench.scheduling.options import Options, parse_options
from bench.scheduling.reports import Report


def _header(options: Options) -> str:
    return (
        f"One `medappt serve --workers 1` (uvicorn with uvloop and httptools) on "
        f"{os.cpu_count()} CPUs shared with PostgreSQL, Redis and this load generator; "
        f"commit {short_commit() or '?'}; {options.warmup_s:g} s warm-up + "
        f"{options.duration_s:g} s measured per row; Redis flushed before each row. Open-loop "
        "latency counts from each request's due time, so queueing is included; `gen. lag` is "
        "how late the generator itself sent (part of the latency). CPU per request counts the "
        "whole row, warm-up included; `anything else` is CPU used on the machine by other "
        "processes."
    )


async def run(options: Options) -> list[Report | AnatomyReport]:
    rng = random.Random(options.seed)  # noqa: S311 - reproducible choices, no secrets
    redis = Redis.from_url(options.redis_url)
    reports: list[Report | AnatomyReport] = []
    stats = await asyncpg.connect(options.database_url)
    try:
        fixture = await load_fixture(options.database_url, redis, rng)
        print(
            f"{len(fixture.doctors)} doctors, {len(fixture.patients):,} patients, "
            f"{len(fixture.days)} working days ahead",
            file=sys.stderr,
        )
        with running_api(options.database_url, options.redis_url) as server:
            print(f"API pid {server.pid} at {server.url}", file=sys.stderr)
            async with client_session(options.connections, options.timeout_s) as http:
                harness = Harness(
                    options, server, http=http, redis=redis, fixture=fixture, stats=stats
                )
                bookings = Bookings(harness)
                chosen: dict[str, Callable[[], Awaitable[Report | AnatomyReport]]] = {
                    "miss": lambda: scenarios.slots_miss(harness),
                    "hit": lambda: scenarios.slots_hit(harness),
                    "book": lambda: scenarios.book(harness, bookings),
                    "anatomy": lambda: anatomy(harness, bookings),
                }
                try:
                    for name in options.scenarios:
                        print(f"scenario {name}", file=sys.stderr)
                        reports.append(await chosen[name]())
                finally:
                    if bookings.sent and not options.keep_bookings:
                        await harness.settle()
                        started = time.perf_counter()
                        cancelled, found = await bookings.cancel_all()
                        print(
                            f"cancelled {cancelled:,} of {found:,} bookings "
                            f"in {time.perf_counter() - started:.0f} s",
                            file=sys.stderr,
                        )
    finally:
        await stats.close()
        await redis.flushdb()
        await redis.aclose()
    return reports


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    reports = uvloop.run(run(options))
    print(_header(options) + "\n")
    for report in reports:
        print(report.markdown() + "\n")
    for report in reports:
        profiles = report.profiles()
        if profiles:
            print(profiles + "\n")


if __name__ == "__main__":
    main()
