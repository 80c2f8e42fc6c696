"""searchSlots at scale: the first free slots of one specialty over 7 days, warm and cold.

Run with ``python -m bench.search_slots --embedded DIR``: starts PostgreSQL and Redis under
DIR (kept between runs), migrates, and fills it with ``medappt seed-scale`` data the first
time; or give ``--database-url`` and ``--redis-url`` of a seeded database (Redis is
flushed). Starts ``medappt serve --workers N`` (``--workers``, default 1) and asks it, anonymously:

    searchSlots(filter: {specialty, from, to: from + 7 days}, first: 20)
      { edges { cursor node { startsAt endsAt doctor { id name } clinic { id name } } } }

for the specialty whose active doctors are closest to ``--doctors`` in number, with
``from`` on one of the next days at one of 24 hours (so requests differ).

- warm: every window asked once, then an open loop at each of ``--rates`` requests/s
  (latency counted from each request's due time, queueing included) for ``--duration`` s;
- cold: one request at a time, Redis flushed before each: no doctor-day is cached.

Prints a Markdown table: latency percentiles and the API's CPU per request.
"""

import argparse
import json
import math
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import uvloop
from redis.asyncio import Redis

from bench.api_server import ApiServer, running_api
from bench.cpu import process_seconds
from bench.load import OK, Request, RunStats, client_session, open_loop, send
from db.migrate import upgrade_async
from devtools.embedded import EmbeddedStack

QUERY = """query Search($filter: SlotSearchInput!) {
  searchSlots(filter: $filter, first: 20) {
    edges { cursor node { startsAt endsAt doctor { id name } clinic { id name } } }
  }
}"""
WINDOW = timedelta(days=7)
START_DAYS = 5  # windows start on one of the next five days ...
START_HOURS = 24  # ... at one of these hours (UTC)


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str
    redis_url: str
    embedded: Path | None
    doctors: int
    rates: tuple[float, ...]
    workers: int
    warmup_s: float
    duration_s: float
    cold_requests: int
    seed: int


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    stats: RunStats
    api_cpu_ms: float  # API CPU per answered request

    def markdown(self) -> str:
        s = self.stats
        return (
            f"| {self.label} | {s.achieved_rps:.0f}/s | {s.percentile(0.5):.1f} | "
            f"{s.percentile(0.99):.1f} | {s.max_ms:.1f} | {self.api_cpu_ms:.2f} | "
            f"{_outcomes(s)} |"
        )


def _outcomes(stats: RunStats) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(stats.outcomes.items()))


async def _specialty(database_url: str, wanted: int) -> tuple[str, int]:
    """The specialty whose active doctors number closest to ``wanted``."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        row = await connection.fetchrow(
            "SELECT specialty, count(*) AS doctors FROM doctors WHERE active"
            " GROUP BY specialty ORDER BY abs(count(*) - $1), specialty LIMIT 1",
            wanted,
        )
    finally:
        await connection.close()
    if row is None:
        raise SystemExit("no doctors: seed the database with `medappt seed-scale` first")
    return str(row["specialty"]), int(row["doctors"])


def _requests(specialty: str, count: int, seed: int) -> list[Request]:
    """``count`` requests over the distinct windows, in a shuffled but repeatable order."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [
        today + timedelta(days=day, hours=hour)
        for day in range(1, START_DAYS + 1)
        for hour in range(START_HOURS)
    ]
    rng = random.Random(seed)  # noqa: S311 - a repeatable order, not a secret
    chosen = [windows[index % len(windows)] for index in range(count)]
    rng.shuffle(chosen)
    return [_request(specialty, start) for start in chosen]


def _request(specialty: str, start: datetime) -> Request:
    search = {"specialty": specialty, "from": start.isoformat(), "to": (start + WINDOW).isoformat()}
    body = json.dumps({"query": QUERY, "variables": {"filter": search}}).encode()
    return Request(body=body, headers={"Content-Type": "application/json"})


def _classify(_index: int, status: int, body: bytes) -> str:
    if status != 200:
        return f"http {status}"
    reply = json.loads(body)
    if reply.get("errors"):
        return str(reply["errors"][0].get("extensions", {}).get("code", "error"))
    return OK if reply["data"]["searchSlots"]["edges"] else "empty"


async def _warm(
    options: Options, api: ApiServer, http: aiohttp.ClientSession, specialty: str, rate: float
) -> Row:
    every_window = _requests(specialty, START_DAYS * START_HOURS, options.seed)
    for index, request in enumerate(every_window):  # fills the cache, untimed
        assert await send(http, api.graphql_url, request, _classify, index) == OK
    total = math.ceil((options.warmup_s + options.duration_s) * rate)
    requests = _requests(specialty, total, options.seed + 1)
    cpu_before = _api_seconds(api, 0.0)
    stats = await open_loop(
        http,
        api.graphql_url,
        requests,
        _classify,
        rate=rate,
        warmup_s=options.warmup_s,
        duration_s=options.duration_s,
    )
    cpu_ms = _api_seconds(api, cpu_before) * 1e3 / max(1, stats.replies)
    return Row(f"warm, {rate:g} req/s", stats, cpu_ms)


def _api_seconds(api: ApiServer, before: float) -> float:
    """CPU the API used since ``before`` (its workers' too, with --workers)."""
    return process_seconds(api.pid) + _children_seconds(api.pid) - before


def _children_seconds(pid: int) -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                total += process_seconds(int(entry.name))
    return total


async def _cold(
    options: Options, api: ApiServer, http: aiohttp.ClientSession, redis: Redis, specialty: str
) -> Row:
    requests = _requests(specialty, options.cold_requests, options.seed + 2)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    cpu = 0.0
    for index, request in enumerate(requests):
        await redis.flushdb()
        cpu_before, began = _api_seconds(api, 0.0), time.perf_counter()
        outcome = await send(http, api.graphql_url, request, _classify, index)
        latencies.append((time.perf_counter() - began) * 1e3)
        cpu += _api_seconds(api, cpu_before)
        outcomes[outcome] += 1
    stats = RunStats(
        load="1 at a time",
        samples=len(latencies),
        window_s=sum(latencies) / 1e3,
        due_s=sum(latencies) / 1e3,
        latencies_ms=sorted(latencies),
        outcomes=outcomes,
        lag_p99_ms=0.0,
        replies=len(latencies),
    )
    return Row("cold (Redis flushed), one at a time", stats, cpu * 1e3 / len(latencies))


async def _prepare(options: Options) -> None:
    """Migrate, and seed an empty database at scale (minutes on a small machine)."""
    await upgrade_async(options.database_url)
    connection = await asyncpg.connect(options.database_url.replace("+asyncpg", ""))
    try:
        doctors = await connection.fetchval("SELECT count(*) FROM doctors")
    finally:
        await connection.close()
    if doctors == 0:
        from devtools.scale import seed_scale  # noqa: PLC0415 - only when seeding

        began = time.monotonic()
        print(await seed_scale(options.database_url))
        print(f"seeded in {time.monotonic() - began:.0f} s")


async def run(options: Options) -> list[Row]:
    await _prepare(options)
    specialty, doctors = await _specialty(options.database_url, options.doctors)
    print(f"specialty {specialty!r}: {doctors} active doctors")
    # One client IP sends everything: the per-IP budget is not what is measured.
    os.environ["MEDAPPT_RATE_LIMITS"] = "off"
    redis = Redis.from_url(options.redis_url)
    try:
        await redis.flushdb()
        with running_api(options.database_url, options.redis_url, workers=options.workers) as api:
            async with client_session(256, 30.0) as http:
                rows = [await _warm(options, api, http, specialty, r) for r in options.rates]
            # A fresh pool: connections left idle by a saturated loop may have been closed.
            async with client_session(4, 30.0) as http:
                rows.append(await _cold(options, api, http, redis, specialty))
    finally:
        await redis.flushdb()
        await redis.aclose()
    return rows


def _parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--embedded", type=Path, default=None, metavar="DIR")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None, help="flushed")
    parser.add_argument("--doctors", type=int, default=50, help="active doctors wanted")
    parser.add_argument("--rates", default="25,50,100", help="warm open loops, req/s each")
    parser.add_argument("--workers", type=int, default=1, help="of medappt serve")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--cold-requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.embedded is None and (args.database_url is None or args.redis_url is None):
        parser.error("give --embedded DIR, or both --database-url and --redis-url")
    return Options(
        database_url=args.database_url or "",
        redis_url=args.redis_url or "",
        embedded=args.embedded,
        doctors=args.doctors,
        rates=tuple(float(rate) for rate in args.rates.split(",") if rate.strip()),
        workers=args.workers,
        warmup_s=args.warmup,
        duration_s=args.duration,
        cold_requests=args.cold_requests,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = _parse(argv)
    with ExitStack() as stack:
        if options.embedded is not None:
            servers = stack.enter_context(
                EmbeddedStack(options.embedded, postgres=True, redis=True, s3=False, durable=True)
            )
            assert servers.database_url is not None
            assert servers.redis_url is not None
            options = replace(
                options, database_url=servers.database_url, redis_url=servers.redis_url
            )
        rows = uvloop.run(run(options))
    print("| row | achieved | p50 ms | p99 ms | max ms | API CPU ms/req | outcomes |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(row.markdown())


if __name__ == "__main__":
    main()
