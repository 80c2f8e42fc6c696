"""The bench's harness around the API: tokens, requests, and rows measured with the CPU
they cost, each on a quiet machine and followed by an idle API."""

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from pathlib import Path

import aiohttp
import asyncpg
from redis.asyncio import Redis

from bench.api_server import ApiServer
from bench.cpu import CpuMeter, process_seconds
from bench.load import OK, Classify, Request, RunStats, closed_loop, open_loop
from bench.scheduling.fixture import Fixture, Patient
from bench.scheduling.options import Load, Options
from bench.scheduling.queries import SLOTS_QUERY, error_outcome, graphql_request
from bench.scheduling.reports import Report, Row
from db.enums import Role

SETUP_CONCURRENCY = 16  # untimed set-up and clean-up requests in flight
SETTLED_CORES = 0.05  # the API counts as idle below this CPU use
SETTLE_LIMIT_S = 120.0
QUIET_CORES = 0.25  # a row starts once the machine uses less than this, ...
QUIET_WINDOW_S = 2.0  # ... measured over this long

Prepare = Callable[[int], Awaitable[tuple[list[Request], Classify]]]


async def limited(calls: Iterable[Awaitable[None]], concurrency: int = SETUP_CONCURRENCY) -> None:
    """Await ``calls`` (coroutines not yet started), at most ``concurrency`` at a time."""
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded(call: Awaitable[None]) -> None:
        async with semaphore:
            await call

    await asyncio.gather(*(guarded(call) for call in calls))


class Harness:
    def __init__(
        self,
        options: Options,
        server: ApiServer,
        *,
        http: aiohttp.ClientSession,
        redis: Redis,
        fixture: Fixture,
        stats: asyncpg.Connection,
    ) -> None:
        self.options = options
        self.stats = stats  # reads pg_stat_database
        self.server = server
        self.http = http
        self.redis = redis
        self.fixture = fixture
        self.meter = CpuMeter(server.pid, fixture.postgres_pid, fixture.database, fixture.redis_pid)
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible choices, no secrets

    # --- requests ---

    def token(self, patient: Patient) -> str:
        """An access token for a patient, minted with the server's own key (no login)."""
        token, _ = self.server.tokens.issue_access(
            user_id=patient.user_id,
            role=Role.PATIENT,
            family_id=uuid.uuid4(),
            patient_id=patient.id,
        )
        return token

    def browsing_tokens(self, count: int = 1000) -> list[str]:
        """Tokens of patients who only look at slots (the last ones, who never book)."""
        return [self.token(patient) for patient in self.fixture.patients[-count:]]

    def slots_request(self, doctor: uuid.UUID, day: date, token: str) -> Request:
        variables = {"doctorId": str(doctor), "date": day.isoformat()}
        return graphql_request(SLOTS_QUERY, variables, token)

    async def post(self, request: Request) -> tuple[int, bytes]:
        async with self.http.post(
            self.server.graphql_url, data=request.body, headers=request.headers
        ) as response:
            return response.status, await response.read()

    async def expect_ok(self, request: Request) -> None:
        status, body = await self.post(request)
        outcome = error_outcome(status, body)
        if outcome != OK:
            raise RuntimeError(f"set-up request failed: {outcome}")

    # --- measured rows ---

    async def measured(self, label: str, run: Callable[[], Awaitable[RunStats]]) -> Row:
        """One run, with the CPU it used, and py-spy recording its measured part if asked."""
        profile: Path | None = None
        profiler: asyncio.Task[None] | None = None
        if self.options.py_spy_dir is not None:
            profile = self.options.py_spy_dir / f"{label}.txt"
            profiler = asyncio.create_task(self._py_spy(profile))
        await self.wait_for_quiet()
        sessions = await self.postgres_sessions()
        before = self.meter.snapshot()
        stats = await run()
        cpu = CpuMeter.between(before, self.meter.snapshot())
        if profiler is not None:
            await profiler
        await self.settle()
        row = Row(stats, cpu, profile, await self.postgres_sessions() - sessions)
        print(
            f"  {label}: {stats.samples:,} measured, {stats.achieved_rps:,.0f}/s, "
            f"p99 {stats.percentile(0.99):,.1f} ms, API CPU {row.ms_per_reply(row.cpu.api):.2f} "
            "ms/req",
            file=sys.stderr,
        )
        return row

    async def postgres_sessions(self) -> int:
        """Connections ever opened to the database (PostgreSQL 14 or later; else 0)."""
        try:
            value = await self.stats.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
        except asyncpg.PostgresError:
            return 0
        return int(value or 0)

    async def wait_for_quiet(self) -> None:
        """Wait (up to ``--quiet-wait`` s) until other processes use little CPU: the machine
        is shared, and a row measured next to someone else's test run means little."""
        deadline = time.monotonic() + self.options.quiet_wait_s
        waited = False
        while True:
            before = self.meter.snapshot()
            await asyncio.sleep(QUIET_WINDOW_S)
            use = CpuMeter.between(before, self.meter.snapshot())
            if use.cores(use.machine) < QUIET_CORES or time.monotonic() >= deadline:
                if waited:
                    print(f"  (machine at {use.cores(use.machine):.2f} cores)", file=sys.stderr)
                return
            if not waited:
                print("  waiting for other work on the machine to stop ...", file=sys.stderr)
                waited = True

    async def settle(self) -> None:
        """Wait until the API is idle: after an overload it still works through requests
        whose client gave up, and that must not spill into the next row."""
        deadline = time.monotonic() + SETTLE_LIMIT_S
        while time.monotonic() < deadline:
            try:
                os.kill(self.server.pid, 0)
            except ProcessLookupError:
                raise RuntimeError("the API process died:\n" + self.server.log_tail()) from None
            before = process_seconds(self.server.pid)
            await asyncio.sleep(0.5)
            if process_seconds(self.server.pid) - before < SETTLED_CORES * 0.5:
                return

    async def _py_spy(self, path: Path) -> None:
        await asyncio.sleep(self.options.warmup_s)
        path.parent.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            *(str(Path(sys.executable).with_name("py-spy")), "record", "--native"),
            *("--pid", str(self.server.pid), "--duration", str(round(self.options.duration_s))),
            *("--rate", "100", "--format", "raw", "--output", str(path)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await process.wait()

    async def run_rows(
        self, report: Report, label: str, loads: Iterable[Load], prepare: Prepare
    ) -> None:
        """One row per load; ``prepare(n)`` gives n requests (untimed) and their classifier."""
        for load in loads:
            best: Row | None = None
            for attempt in range(1, self.options.attempts + 1):
                again = f"-attempt{attempt}" if attempt > 1 else ""
                row = await self._one_row(f"{label}-{load.label}{again}", load, prepare)
                others = row.cpu.cores(row.cpu.other)
                if best is None or others < best.cpu.cores(best.cpu.other):
                    best = row
                if others < QUIET_CORES:
                    break
                if attempt < self.options.attempts:
                    print(f"  other processes used {others:.2f} cores: again", file=sys.stderr)
            assert best is not None
            report.rows.append(best)

    async def _one_row(self, label: str, load: Load, prepare: Prepare) -> Row:
        span = self.options.warmup_s + self.options.duration_s
        requests, classify = await prepare(load.requests_needed(span))

        async def run() -> RunStats:
            url, warmup_s, duration_s = (
                self.server.graphql_url,
                self.options.warmup_s,
                self.options.duration_s,
            )
            if load.rate is not None:
                return await open_loop(
                    self.http, url, requests, classify,
                    rate=load.rate, warmup_s=warmup_s, duration_s=duration_s,
                )  # fmt: skip
            assert load.workers is not None
            return await closed_loop(
                self.http, url, requests, classify,
                workers=load.workers, warmup_s=warmup_s, duration_s=duration_s,
            )  # fmt: skip

        return await self.measured(label, run)
