"""``python -m bench.report``: set up, run every scenario, check the SLAs, write the report
(the bench is described in :mod:`bench.report`)."""

import asyncio
import dataclasses
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import uvloop
from joserfc.jwk import KeySet
from redis.asyncio import Redis

from bench.api_server import running_api
from bench.cpu import yardstick_seconds
from bench.git_commit import short_commit
from bench.load import client_session
from bench.report import document, plots
from bench.report.fixture import People, people, prepare_database
from bench.report.mixed import mixed
from bench.report.options import DATABASE, ReportOptions, parse_options
from bench.report.processes import ProcessRow, measure, rss_mb
from bench.report.records import Ratio, ratio, records_rows
from bench.scheduling import scenarios
from bench.scheduling.bookings import Bookings
from bench.scheduling.fixture import load_fixture
from bench.scheduling.harness import Harness
from bench.scheduling.reports import Report
from devtools.embedded.s3 import EmbeddedS3
from services.auth.keys import TokenKeys, generate_signing_key, public_part
from services.auth.tokens import TokenService
from services.settings import load_settings
from services.storage import ensure_bucket, s3_client

BUCKET = "medappt-bench-report"
OVERLAPS = """SELECT count(*) FROM appointments a JOIN appointments b
  ON b.doctor_id = a.doctor_id AND b.id <> a.id AND b.status = 'SCHEDULED'
  AND tstzrange(b.starts_at, b.ends_at) && tstzrange(a.starts_at, a.ends_at)
  WHERE a.status = 'SCHEDULED' AND a.created_at >= $1"""


@dataclasses.dataclass
class Outcome:
    reports: list[Report]
    ratio: Ratio
    processes: list[ProcessRow]
    rss_mb: float
    overlaps: int
    load_average: tuple[float, float, float]
    not_measured: list[str]  # scenarios whose set-up failed, and why


async def run(options: ReportOptions) -> Outcome:
    scheduling = options.scheduling
    await prepare_database(options.admin_url, DATABASE, scheduling.database_url)
    cast = await people(scheduling.database_url)
    with tempfile.TemporaryDirectory(prefix="medappt-bench-report-") as tmp:
        s3 = EmbeddedS3(Path(tmp) / "moto")
        await asyncio.to_thread(s3.start)
        try:
            return await _run(options, cast, Path(tmp), s3.url)
        finally:
            await asyncio.to_thread(s3.stop)


async def _run(options: ReportOptions, cast: People, data_dir: Path, s3_url: str) -> Outcome:
    scheduling = options.scheduling
    environment = {
        "S3_ENDPOINT_URL": s3_url,
        "S3_BUCKET": BUCKET,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
    }
    async with s3_client(load_settings({**environment, "MEDAPPT_ENV": "dev"})) as s3:
        await ensure_bucket(s3, BUCKET)
    signing = generate_signing_key()
    tokens = TokenService(
        TokenKeys(signing=signing, verification=KeySet([public_part(signing)])),
        "medappt",
        "medappt-api",
    )
    environment["MEDAPPT_JWT_PRIVATE_KEY"] = json.dumps(signing.as_dict(private=True))
    handler_environment = {
        **environment,
        "DATABASE_URL": scheduling.database_url,
        "REDIS_URL": scheduling.redis_url,
        "MEDAPPT_ENV": "dev",
        "MEDAPPT_DATA_DIR": str(data_dir),
        "MEDAPPT_RATE_LIMITS": "off",
    }
    redis = Redis.from_url(scheduling.redis_url)
    stats = await asyncpg.connect(scheduling.database_url)
    started = datetime.now(UTC)
    try:
        fixture = await load_fixture(scheduling.database_url, redis, random.Random(1))  # noqa: S311
        with running_api(
            scheduling.database_url, scheduling.redis_url, extra_environment=environment
        ) as started_server:
            server = dataclasses.replace(started_server, tokens=tokens)
            async with client_session(scheduling.connections, scheduling.timeout_s) as http:
                harness = Harness(
                    scheduling, server, http=http, redis=redis, fixture=fixture, stats=stats
                )
                bookings = Bookings(harness)
                reports: list[Report] = []
                not_measured: list[str] = []
                rss = 0.0
                chosen: list[tuple[str, Callable[[], Awaitable[Report]]]] = [
                    ("miss", lambda: scenarios.slots_miss(harness)),
                    ("hit", lambda: scenarios.slots_hit(harness)),
                    ("book", lambda: scenarios.book(harness, bookings)),
                    ("records", lambda: records_rows(harness, cast, options.records_loads)),
                    ("mixed", lambda: mixed(harness, bookings, cast, options.mixed_loads)),
                ]
                try:
                    for name, make in chosen:
                        print(f"scenario {name}", file=sys.stderr)
                        try:
                            reports.append(await make())
                        except (aiohttp.ClientError, TimeoutError, RuntimeError) as error:
                            # An overloaded machine can fail a row's set-up: report the rest.
                            print(f"  {name} not measured: {error!r}", file=sys.stderr)
                            not_measured.append(f"{name} ({type(error).__name__})")
                            await harness.settle()
                        rss = max(rss, rss_mb(server.pid))
                    overlaps = int(await stats.fetchval(OVERLAPS, started))
                    seconds = 3.0 if options.quick else 20.0
                    records_ratio = await ratio(
                        harness, cast, handler_environment, data_dir, seconds
                    )
                finally:
                    await harness.settle()
                    await bookings.cancel_all()
                process_rows = await measure(harness, server, 1, options.process_workers)
        with running_api(
            scheduling.database_url, scheduling.redis_url, workers=2,
            extra_environment=environment,
        ) as two:  # fmt: skip
            two_server = dataclasses.replace(two, tokens=tokens)
            process_rows += await measure(harness, two_server, 2, options.process_workers)
    finally:
        await stats.close()
        await redis.flushdb()
        await redis.aclose()
    return Outcome(
        reports, records_ratio, process_rows, rss, overlaps, os.getloadavg(), not_measured
    )


def _header(options: ReportOptions, outcome: Outcome, started: float, yardstick: float) -> str:
    run = "`python -m bench.report --quick`" if options.quick else "`python -m bench.report`"
    scheduling = options.scheduling
    load = ", ".join(f"{value:.1f}" for value in outcome.load_average)
    missing = (
        f" Not measured (an overloaded machine failed their set-up): "
        f"{', '.join(outcome.not_measured)}."
        if outcome.not_measured
        else ""
    )
    return (
        f"### Generated by {run}\n\n"
        f"Commit {short_commit() or '?'}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{time.monotonic() - started:.0f} s; one `medappt serve --workers 1` on "
        f"{os.cpu_count()} CPUs shared with PostgreSQL 15 (database `{DATABASE}`, "
        "`medappt seed-scale` data), Redis and this load generator. Rows: "
        f"{scheduling.warmup_s:g} s warm-up + {scheduling.duration_s:g} s measured, at most "
        f"{scheduling.attempts} attempt(s) while other processes used the machine "
        f"(`anything else`); load average at the end: {load}. Open-loop latency counts from "
        "each request's due time. The machine's speed: a pure-Python loop of 10 million "
        f"additions took {yardstick:.2f} s of CPU (0.18 to 2.0 s on machines of this kind so "
        "far)." + missing
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    started = time.monotonic()
    yardstick = yardstick_seconds()
    outcome = uvloop.run(run(options))
    checks = document.slas(
        next((r for r in outcome.reports if r.title.startswith("bookAppointment")), None),
        next((r for r in outcome.reports if "cache hit" in r.title), None),
        outcome.ratio,
        outcome.rss_mb,
        outcome.overlaps,
        processes=outcome.processes,
    )
    # Printed only: the committed plots are left as they are.
    drawn_in = options.plots if options.write else Path(tempfile.mkdtemp(prefix="medappt-plots-"))
    drawn_in.mkdir(parents=True, exist_ok=True)
    drawn = [plots.latency_plot(report, drawn_in) for report in outcome.reports]
    drawn.append(plots.processes_plot(outcome.processes, drawn_in))
    section = document.markdown(
        _header(options, outcome, started, yardstick),
        checks,
        reports=outcome.reports,
        ratio=outcome.ratio,
        processes=outcome.processes,
        plots=[path for path in drawn if path is not None],
        document=options.document,
    )
    if options.write:
        document.write(options.document, section)
    else:
        print(section)
    for sla in checks:
        print(f"{'PASS' if sla.passed else 'FAIL'}  {sla.what}: {sla.measured}")


if __name__ == "__main__":
    main()
