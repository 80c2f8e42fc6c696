"""Scheduling at scale: availableSlots (cache miss and hit) and bookAppointment over HTTP.

Run with ``python -m bench.scheduling`` against the ``medappt seed-scale`` database. Starts
one ``medappt serve --workers 1`` process, mints access tokens with the key it gave it, and
drives it from this process: requests one at a time (the "anatomy" of a request), open loops
at fixed rates, and closed loops of N workers. Redis database 5 is flushed before every row.
Bookings are cancelled at the end through cancelAppointment (untimed), so the database can
be reused. Prints Markdown tables: latency and outcomes, then the CPU each process group
used per request.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import uvloop
from redis.asyncio import Redis

from bench import profile_summary
from bench.api_server import ApiServer, running_api
from bench.cpu import CpuMeter, CpuUse, process_seconds
from bench.load import OK, Classify, Request, RunStats, client_session, closed_loop, open_loop
from db.enums import Role

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/medappt_scale"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"

SLOTS_QUERY = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available clinic { id } }
}"""
BOOK_MUTATION = """mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status startsAt }
}"""
CANCEL_MUTATION = """mutation Cancel($id: ID!) {
  cancelAppointment(id: $id, reason: "benchmark clean-up") { id status }
}"""

# The anatomy scenario: the same kinds of request, each adding one part of the work.
TYPENAME_QUERY = "query Ping { __typename }"
SLOTS_START_QUERY = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt }
}"""
SLOTS_TIMES_QUERY = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available }
}"""
BOOK_BARE_MUTATION = """mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status }
}"""
ANATOMY_READS = 1000
ANATOMY_BOOKINGS = 300

SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
HORIZON_DAYS = 90
SETUP_CONCURRENCY = 16  # untimed set-up and clean-up requests in flight
CLOSED_LOOP_CEILING = 600  # requests/s a closed-loop row is prepared for
SETTLED_CORES = 0.05  # the API counts as idle below this CPU use
SETTLE_LIMIT_S = 120.0
QUIET_CORES = 0.25  # a row starts once the machine uses less than this, ...
QUIET_WINDOW_S = 2.0  # ... measured over this long


@dataclass(frozen=True, slots=True)
class Patient:
    id: uuid.UUID
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class FreeSlot:
    doctor_id: str
    clinic_id: str
    starts_at: str  # as availableSlots returned it, with the clinic's UTC offset


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str
    redis_url: str
    scenarios: tuple[str, ...]
    miss_loads: tuple["Load", ...]
    hit_loads: tuple["Load", ...]
    hit_keys: int
    book_loads: tuple["Load", ...]
    warmup_s: float
    duration_s: float
    connections: int
    timeout_s: float
    keep_bookings: bool
    quiet_wait_s: float
    attempts: int
    py_spy_dir: Path | None
    seed: int


@dataclass(frozen=True, slots=True)
class Load:
    """Open loop at ``rate`` requests/s, or a closed loop of ``workers`` (exactly one set)."""

    rate: float | None = None
    workers: int | None = None

    @property
    def label(self) -> str:
        return f"{self.rate:g}rps" if self.rate is not None else f"{self.workers}workers"

    def requests_needed(self, span_s: float) -> int:
        """Requests to prepare; a closed loop gets enough for ``CLOSED_LOOP_CEILING``/s."""
        return round(span_s * (self.rate if self.rate is not None else CLOSED_LOOP_CEILING))


def loads(rates: Sequence[float], workers: Sequence[int]) -> tuple[Load, ...]:
    return (*(Load(rate=r) for r in rates), *(Load(workers=n) for n in workers))


# --- reporting ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What a row must show: a p99 bound, no transport failures, and maybe a throughput."""

    p99_ms: float
    min_rps: float | None = None  # of replies with outcome OK

    def met(self, stats: RunStats) -> bool:
        if stats.percentile(0.99) >= self.p99_ms:
            return False
        if stats.count("transport") or stats.count("timeout") or stats.count("HTTP"):
            return False
        return self.min_rps is None or stats.count(OK) / stats.window_s >= self.min_rps

    def describe(self) -> str:
        floor = f", >= {self.min_rps:g} ok/s" if self.min_rps is not None else ""
        return f"p99 < {self.p99_ms:g} ms{floor}"


@dataclass(frozen=True, slots=True)
class Row:
    stats: RunStats
    cpu: CpuUse
    profile: Path | None
    pg_sessions: int  # connections opened to PostgreSQL during the row

    def ms_per_reply(self, seconds: float) -> float:
        return seconds / self.stats.replies * 1e3 if self.stats.replies else float("nan")


@dataclass
class Report:
    title: str
    target: Target
    outcome_columns: Sequence[tuple[str, str]]  # (header, outcome prefix)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", *self._latency_table(), "", *self._cpu_table()]
        others = sorted(
            {
                outcome
                for row in self.rows
                for outcome in row.stats.outcomes
                if not any(outcome.startswith(prefix) for _, prefix in self.outcome_columns)
            }
        )
        notes = list(self.notes)
        if others:
            notes.append("Other outcomes: " + "; ".join(f"`{o}`" for o in others) + ".")
        if notes:
            lines += ["", *(f"- {note}" for note in notes)]
        return "\n".join(lines)

    def _latency_table(self) -> list[str]:
        extra = [header for header, _ in self.outcome_columns]
        head = ["load", "requests", "achieved req/s", *extra, "other errors"]
        head += ["p50 ms", "p95 ms", "p99 ms", "max ms", "gen. lag p99 ms", self.target.describe()]
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
        for row in self.rows:
            run = row.stats
            listed = [run.count(prefix) for _, prefix in self.outcome_columns]
            cells = [run.load + (" (ran out of slots)" if run.exhausted else "")]
            cells += [f"{run.samples:,}", f"{run.achieved_rps:,.0f}"]
            cells += [f"{n:,}" for n in listed] + [f"{run.samples - sum(listed):,}"]
            cells += [f"{run.percentile(q):,.1f}" for q in (0.50, 0.95, 0.99)]
            cells += [f"{run.max_ms:,.1f}", f"{run.lag_p99_ms:,.1f}"]
            cells.append("yes" if self.target.met(run) else "**no**")
            lines.append("| " + " | ".join(cells) + " |")
        return lines

    def _cpu_table(self) -> list[str]:
        lines = [
            "| load | API CPU ms/req | PostgreSQL CPU ms/req | Redis CPU ms/req "
            "| generator CPU ms/req | API busy (cores) | PostgreSQL busy (cores) "
            "| anything else (cores) | PG connections opened |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in self.rows:
            cpu = row.cpu
            per = [row.ms_per_reply(s) for s in (cpu.api, cpu.postgres, cpu.redis, cpu.generator)]
            busy = [cpu.cores(s) for s in (cpu.api, cpu.postgres, cpu.other)]
            lines.append(
                f"| {row.stats.load} | "
                + " | ".join(f"{value:.2f}" for value in per)
                + " | "
                + " | ".join(f"{value:.2f}" for value in busy)
                + f" | {row.pg_sessions:,} |"
            )
        return lines

    def profiles(self) -> str:
        """Where the API's CPU went in each profiled row."""
        parts: list[str] = []
        for row in self.rows:
            if row.profile is None or not row.profile.exists():
                continue
            shares, samples, _ = profile_summary.summarize(row.profile)
            parts.append(
                f"#### Profile: {self.title}, {row.stats.load} ({samples:,} samples)\n\n"
                + profile_summary.markdown(shares, row.ms_per_reply(row.cpu.api))
            )
        return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    requests: int
    cpu: CpuUse
    mean_ms: float
    compared_with: int | None  # index of the step this one adds to

    def ms(self, seconds: float) -> float:
        return seconds / self.requests * 1e3


@dataclass
class AnatomyReport:
    steps: list[Step] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [
            "### Anatomy of a request (one at a time, no concurrency)",
            "",
            "| request | API CPU ms/req | added to the row it builds on | PostgreSQL CPU ms/req "
            "| Redis CPU ms/req | mean latency ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for step in self.steps:
            api = step.ms(step.cpu.api)
            if step.compared_with is None:
                added = ""
            else:
                base = self.steps[step.compared_with]
                added = f"{api - base.ms(base.cpu.api):+.2f} (vs row {step.compared_with + 1})"
            lines.append(
                f"| {len(lines) - 3}. {step.what} | {api:.2f} | {added} "
                f"| {step.ms(step.cpu.postgres):.2f} | {step.ms(step.cpu.redis):.2f} "
                f"| {step.mean_ms:.2f} |"
            )
        lines += [
            "",
            f"- {ANATOMY_READS} requests per read row, {ANATOMY_BOOKINGS} per booking row, "
            "sent one after another after a short warm-up; CPU from /proc.",
        ]
        return "\n".join(lines)

    def profiles(self) -> str:
        return ""


# --- requests ----------------------------------------------------------------------------------


def graphql_request(query: str, variables: dict[str, Any], token: str) -> Request:
    return Request(
        body=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )


def error_outcome(status: int, body: bytes) -> str:
    """``OK`` for a 200 without errors; otherwise the first error's code (and message)."""
    if status == 200 and b'"errors"' not in body:
        return OK
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return f"HTTP {status}"
    if not errors:
        return f"HTTP {status}"
    first = errors[0]
    code = str((first.get("extensions") or {}).get("code", "no code"))
    return f"{code}: {first.get('message', '')}" if code == SLOT_UNAVAILABLE else code


def slots_classify(_: int, status: int, body: bytes) -> str:
    return error_outcome(status, body)


# --- fixture -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fixture:
    doctors: list[uuid.UUID]
    patients: list[Patient]  # shuffled; each booking takes the next one
    days: list[date]  # working days (Monday to Friday) from the day after tomorrow on
    postgres_pid: int
    database: str
    redis_pid: int

    def doctor_days(self, rng: random.Random) -> list[tuple[uuid.UUID, date]]:
        pairs = [(doctor, day) for doctor in self.doctors for day in self.days]
        rng.shuffle(pairs)
        return pairs


async def _postmaster_pid(connection: asyncpg.Connection) -> int:
    """The PostgreSQL server's pid, if it runs here and we may read its data directory."""
    try:
        data_directory = await connection.fetchval("SHOW data_directory")
        first_line = (Path(data_directory) / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first_line)
    except (asyncpg.PostgresError, OSError, ValueError):
        return 0


async def load_fixture(database_url: str, redis: Redis, rng: random.Random) -> Fixture:
    connection = await asyncpg.connect(database_url)
    try:
        doctors = [
            row["id"] for row in await connection.fetch("SELECT id FROM doctors ORDER BY id")
        ]
        rows = await connection.fetch(
            "SELECT p.id, p.user_id FROM patients p JOIN users u ON u.id = p.user_id"
            " WHERE u.is_active ORDER BY p.id"
        )
        postgres_pid = await _postmaster_pid(connection)
        database = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()
    patients = [Patient(row["id"], row["user_id"]) for row in rows]
    rng.shuffle(patients)
    first = datetime.now(UTC).date() + timedelta(days=2)
    days = [first + timedelta(days=n) for n in range(HORIZON_DAYS)]
    redis_info = await redis.info("server")
    return Fixture(
        doctors=doctors,
        patients=patients,
        days=[day for day in days if day.isoweekday() <= 5],
        postgres_pid=postgres_pid,
        database=database,
        redis_pid=int(redis_info.get("process_id", 0)),
    )


# --- the bench ---------------------------------------------------------------------------------


async def _limited(calls: Iterable[Awaitable[None]], concurrency: int) -> None:
    """Await ``calls`` (coroutines not yet started), at most ``concurrency`` at a time."""
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded(call: Awaitable[None]) -> None:
        async with semaphore:
            await call

    await asyncio.gather(*(guarded(call) for call in calls))


@dataclass(frozen=True, slots=True)
class BookingSent:
    patient: Patient
    idempotency_key: str


class Bench:
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
        self._next_patient = 0
        self._unasked_days = iter(fixture.doctor_days(self.rng))  # for free slots
        self._free: list[FreeSlot] = []  # collected, not yet booked
        # Every booking sent, answered or not: the clean-up finds them by idempotency key.
        self.bookings_sent: list[BookingSent] = []

    # --- helpers ---

    def token(self, patient: Patient) -> str:
        """An access token for a patient, minted with the server's own key (no login)."""
        token, _ = self.server.tokens.issue_access(
            user_id=patient.user_id,
            role=Role.PATIENT,
            family_id=uuid.uuid4(),
            patient_id=patient.id,
        )
        return token

    def take_patients(self, count: int) -> list[Patient]:
        start, self._next_patient = self._next_patient, self._next_patient + count
        if self._next_patient > len(self.fixture.patients):
            raise RuntimeError(f"more than {len(self.fixture.patients):,} bookings requested")
        return self.fixture.patients[start : self._next_patient]

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
        self,
        report: Report,
        label: str,
        loads: Iterable[Load],
        prepare: Callable[[int], Awaitable[tuple[list[Request], Classify]]],
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

    async def _one_row(
        self,
        label: str,
        load: Load,
        prepare: Callable[[int], Awaitable[tuple[list[Request], Classify]]],
    ) -> Row:
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

    # --- scenario 0: what each part of a request costs ---

    async def sequential(
        self, what: str, requests: Sequence[Request], compared_with: int | None
    ) -> Step:
        """Send ``requests`` one at a time (the first 20 untimed); all must succeed."""
        warmup, timed = requests[:20], requests[20:]
        for request in warmup:
            await self.expect_ok(request)
        before = self.meter.snapshot()
        total = 0.0
        for request in timed:
            started = time.perf_counter()
            status, body = await self.post(request)
            total += time.perf_counter() - started
            if error_outcome(status, body) != OK:
                raise RuntimeError(f"{what}: {error_outcome(status, body)}")
        cpu = CpuMeter.between(before, self.meter.snapshot())
        step = Step(what, len(timed), cpu, total / len(timed) * 1e3, compared_with)
        print(f"  {what}: API CPU {step.ms(cpu.api):.2f} ms/req", file=sys.stderr)
        return step

    async def anatomy(self) -> AnatomyReport:
        report = AnatomyReport()
        token = self.browsing_tokens(1)[0]
        reads = ANATOMY_READS + 20
        anonymous = Request(
            json.dumps({"query": TYPENAME_QUERY}).encode(), {"Content-Type": "application/json"}
        )
        signed_in = graphql_request(TYPENAME_QUERY, {}, token)
        pairs = self.fixture.doctor_days(self.rng)
        warm, fresh = pairs[:200], pairs[200 : 200 + reads]

        def slots(query: str, keys: Sequence[tuple[uuid.UUID, date]]) -> list[Request]:
            return [
                graphql_request(query, {"doctorId": str(d), "date": day.isoformat()}, token)
                for d, day in (keys[i % len(keys)] for i in range(reads))
            ]

        await self.redis.flushdb()
        await _limited([self.expect_ok(r) for r in slots(SLOTS_QUERY, warm)], SETUP_CONCURRENCY)
        steps = [
            ("`{ __typename }`, no token", [anonymous] * reads, None),
            ("`{ __typename }`, patient token", [signed_in] * reads, 0),
            ("availableSlots hit, `{ startsAt }`", slots(SLOTS_START_QUERY, warm), 1),
            (
                "availableSlots hit, `{ startsAt endsAt available }`",
                slots(SLOTS_TIMES_QUERY, warm),
                2,
            ),
            (
                "availableSlots hit, `{ ... clinic { id } }` (as benchmarked)",
                slots(SLOTS_QUERY, warm),
                3,
            ),
            ("availableSlots miss, same selection", slots(SLOTS_QUERY, fresh), 4),
        ]
        for what, requests, compared_with in steps:
            report.steps.append(await self.sequential(what, requests, compared_with))
        free = await self.free_slots(2 * (ANATOMY_BOOKINGS + 20))
        half = ANATOMY_BOOKINGS + 20
        bare, _ = self.booking_requests(free[:half], BOOK_BARE_MUTATION)
        report.steps.append(await self.sequential("bookAppointment `{ id status }`", bare, 1))
        full, _ = self.booking_requests(free[half : 2 * half])
        what = "bookAppointment `{ id status startsAt }` (as benchmarked)"
        report.steps.append(await self.sequential(what, full, len(report.steps) - 1))
        return report

    # --- scenario 1: availableSlots, cache miss ---

    async def slots_miss(self) -> Report:
        report = Report(
            "availableSlots, cache miss (a different doctor and date every request)",
            Target(p99_ms=25.0),
            [("ok", OK)],
        )
        pairs = self.fixture.doctor_days(self.rng)
        tokens = self.browsing_tokens()
        offset = 0

        async def prepare(needed: int) -> tuple[list[Request], Classify]:
            nonlocal offset
            if needed > len(pairs):
                raise RuntimeError(f"{needed:,} distinct doctor-days needed, {len(pairs):,} exist")
            chosen = [pairs[(offset + i) % len(pairs)] for i in range(needed)]
            offset += needed
            await self.redis.flushdb()
            requests = [
                self.slots_request(doctor, day, tokens[i % len(tokens)])
                for i, (doctor, day) in enumerate(chosen)
            ]
            return requests, slots_classify

        await self.run_rows(report, "miss", self.options.miss_loads, prepare)
        report.notes.append(
            f"Doctor-days drawn from {len(pairs):,} (500 doctors x the working days of the next "
            f"{HORIZON_DAYS} days), none repeated within a row; Redis flushed before each row, "
            "so each request reads the cache, runs the one statement and stores the day."
        )
        return report

    # --- scenario 2: availableSlots, cache hit ---

    async def slots_hit(self) -> Report:
        report = Report(
            f"availableSlots, cache hit ({self.options.hit_keys} warm doctor-days)",
            Target(p99_ms=10.0),
            [("ok", OK)],
        )
        pairs = self.fixture.doctor_days(self.rng)[: self.options.hit_keys]
        tokens = self.browsing_tokens()
        warm = [self.slots_request(doctor, day, tokens[0]) for doctor, day in pairs]

        async def prepare(needed: int) -> tuple[list[Request], Classify]:
            requests = [
                self.slots_request(*pairs[self.rng.randrange(len(pairs))], tokens[i % len(tokens)])
                for i in range(needed)
            ]
            await self.redis.flushdb()
            await _limited([self.expect_ok(request) for request in warm], SETUP_CONCURRENCY)
            return requests, slots_classify

        await self.run_rows(report, "hit", self.options.hit_loads, prepare)
        cached = len(await self.redis.keys("slots:day:*"))
        report.notes.append(
            f"Each row starts with {self.options.hit_keys} doctor-days computed and cached "
            f"(untimed); {cached} were cached after the last row, so every timed request hit."
        )
        return report

    # --- scenario 3: bookAppointment ---

    async def free_slots(self, count: int) -> list[FreeSlot]:
        """``count`` free future slots, from availableSlots (untimed). Each doctor-day is
        asked for once in the bench's life, so no slot is handed out twice."""
        if len(self._free) < count:
            print(f"  collecting {count - len(self._free):,} free slots ...", file=sys.stderr)
            self._free += await self._collect_free_slots(count - len(self._free))
        if len(self._free) < count:
            raise RuntimeError(f"only {len(self._free):,} free slots found, {count:,} needed")
        chosen, self._free = self._free[:count], self._free[count:]
        return chosen

    async def _collect_free_slots(self, count: int) -> list[FreeSlot]:
        found: list[FreeSlot] = []
        token = self.browsing_tokens(1)[0]
        not_before = datetime.now(UTC) + timedelta(hours=2)
        pairs = self._unasked_days

        async def fetch(doctor: uuid.UUID, day: date) -> None:
            status, body = await self.post(self.slots_request(doctor, day, token))
            if error_outcome(status, body) != OK:
                raise RuntimeError(f"availableSlots failed: {error_outcome(status, body)}")
            for slot in json.loads(body)["data"]["availableSlots"]:
                starts = datetime.fromisoformat(slot["startsAt"])
                if slot["available"] and starts > not_before:
                    found.append(FreeSlot(str(doctor), slot["clinic"]["id"], slot["startsAt"]))

        while len(found) < count:
            batch = [pair for pair in (next(pairs, None) for _ in range(128)) if pair is not None]
            if not batch:
                break
            await _limited([fetch(*pair) for pair in batch], SETUP_CONCURRENCY)
        self.rng.shuffle(found)
        return found

    def booking_requests(
        self, slots: Sequence[FreeSlot], mutation: str = BOOK_MUTATION
    ) -> tuple[list[Request], Classify]:
        """One booking per slot, each by the next unused patient with a fresh key."""
        patients = self.take_patients(len(slots))
        requests: list[Request] = []
        for slot, patient in zip(slots, patients, strict=True):
            key = uuid.uuid4().hex
            self.bookings_sent.append(BookingSent(patient, key))
            booking = {
                "doctorId": slot.doctor_id,
                "clinicId": slot.clinic_id,
                "startsAt": slot.starts_at,
                "idempotencyKey": key,
            }
            requests.append(graphql_request(mutation, {"input": booking}, self.token(patient)))
        return requests, slots_classify

    async def bookings(self) -> Report:
        report = Report(
            "bookAppointment (a distinct free slot and a distinct patient each)",
            Target(p99_ms=50.0, min_rps=300.0),
            [("booked", OK), (SLOT_UNAVAILABLE, SLOT_UNAVAILABLE)],
        )
        span = self.options.warmup_s + self.options.duration_s
        await self.redis.flushdb()
        # Collected up front for every row's first attempt; a re-run collects more.
        self._free = await self.free_slots(
            sum(load.requests_needed(span) for load in self.options.book_loads)
        )

        async def prepare(count: int) -> tuple[list[Request], Classify]:
            chosen = await self.free_slots(count)
            await self.redis.flushdb()
            return self.booking_requests(chosen)

        await self.run_rows(report, "book", self.options.book_loads, prepare)
        report.notes += [
            "Free slots (available, starting 2 h or more from now) were collected from "
            "availableSlots before each row (untimed), shuffled across doctors and days.",
            "Each booking sends an idempotency key, as a client that retries should.",
        ]
        return report

    async def cancel_bookings(self) -> tuple[int, int]:
        """Cancel, through cancelAppointment, every booking the bench's requests made,
        answered or not (found by idempotency key). Untimed. (cancelled, found)"""
        by_user = {sent.patient.user_id: sent.patient for sent in self.bookings_sent}
        connection = await asyncpg.connect(self.options.database_url)
        try:
            rows = await connection.fetch(
                "SELECT a.id, a.booked_by_user_id FROM appointments a"
                " JOIN unnest($1::uuid[], $2::text[]) AS s(user_id, key)"
                " ON a.booked_by_user_id = s.user_id AND a.idempotency_key = s.key"
                " WHERE a.status = 'SCHEDULED'",
                [sent.patient.user_id for sent in self.bookings_sent],
                [sent.idempotency_key for sent in self.bookings_sent],
            )
        finally:
            await connection.close()
        cancelled = 0

        async def cancel(appointment_id: uuid.UUID, patient: Patient) -> None:
            nonlocal cancelled
            variables = {"id": str(appointment_id)}
            request = graphql_request(CANCEL_MUTATION, variables, self.token(patient))
            status, body = await self.post(request)
            if error_outcome(status, body) == OK:
                cancelled += 1

        calls = [cancel(row["id"], by_user[row["booked_by_user_id"]]) for row in rows]
        await _limited(calls, SETUP_CONCURRENCY)
        return cancelled, len(rows)


# --- main --------------------------------------------------------------------------------------


def _header(options: Options) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"One `medappt serve --workers 1` (uvicorn with uvloop and httptools) on "
        f"{os.cpu_count()} CPUs shared with PostgreSQL, Redis and this load generator; "
        f"commit {commit or '?'}; {options.warmup_s:g} s warm-up + {options.duration_s:g} s "
        "measured per row; Redis flushed before each row. Open-loop latency counts from each "
        "request's due time, so queueing is included; `gen. lag` is how late the generator "
        "itself sent (part of the latency). CPU per request counts the whole row, warm-up "
        "included; `anything else` is CPU used on the machine by other processes."
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
                bench = Bench(options, server, http=http, redis=redis, fixture=fixture, stats=stats)
                scenarios: dict[str, Callable[[], Awaitable[Report | AnatomyReport]]] = {
                    "miss": bench.slots_miss,
                    "hit": bench.slots_hit,
                    "book": bench.bookings,
                    "anatomy": bench.anatomy,
                }
                try:
                    for name in options.scenarios:
                        print(f"scenario {name}", file=sys.stderr)
                        reports.append(await scenarios[name]())
                finally:
                    if bench.bookings_sent and not options.keep_bookings:
                        await bench.settle()
                        started = time.perf_counter()
                        cancelled, found = await bench.cancel_bookings()
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


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def _integers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed before each row")
    parser.add_argument(
        "--scenarios", default="anatomy,miss,hit,book", help="of anatomy, miss, hit, book"
    )
    parser.add_argument("--miss-rates", default="25,50,100,150", help="open loop, req/s")
    parser.add_argument("--miss-workers", default="1,8", help="closed loop, concurrencies")
    parser.add_argument("--hit-rates", default="100,200,300,500")
    parser.add_argument("--hit-workers", default="1,8")
    parser.add_argument("--hit-keys", type=int, default=500, help="doctor-days kept warm")
    parser.add_argument("--book-rates", default="50,100,300")
    parser.add_argument("--book-workers", default="1,16")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--connections", type=int, default=512, help="client connection pool")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--keep-bookings", action="store_true", help="do not cancel them")
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="runs of a row at most, while other processes disturb it; the quietest is shown",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait, before each row, for the machine to be idle (0: do not)",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the API with py-spy --native in each measured part, and summarize",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    unknown = set(scenarios) - {"anatomy", "miss", "hit", "book"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return Options(
        database_url=args.database_url,
        redis_url=args.redis_url,
        scenarios=scenarios,
        miss_loads=loads(_numbers(args.miss_rates), _integers(args.miss_workers)),
        hit_loads=loads(_numbers(args.hit_rates), _integers(args.hit_workers)),
        hit_keys=args.hit_keys,
        book_loads=loads(_numbers(args.book_rates), _integers(args.book_workers)),
        warmup_s=args.warmup,
        duration_s=args.duration,
        connections=args.connections,
        timeout_s=args.timeout,
        keep_bookings=args.keep_bookings,
        quiet_wait_s=args.quiet_wait,
        attempts=max(1, args.attempts),
        py_spy_dir=args.py_spy,
        seed=args.seed,
    )


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
