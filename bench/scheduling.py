"""Scheduling at scale: availableSlots (cache miss and hit) and bookAppointment over HTTP.

Run with ``python -m bench.scheduling`` against the ``medappt seed-scale`` database. Starts
one ``medappt serve --workers 1`` process, mints access tokens with the key it gave it,
and drives it from this process: open loop at fixed rates, and a closed loop for bookings.
Redis database 5 is flushed before every run. Bookings are cancelled at the end (untimed),
so the database can be reused. Prints a Markdown table per scenario.
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

from bench.api_server import ApiServer, running_api
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

SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
HORIZON_DAYS = 90
SETUP_CONCURRENCY = 16  # untimed set-up and clean-up requests in flight


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
    miss_rates: tuple[float, ...]
    hit_rates: tuple[float, ...]
    hit_keys: int
    book_rates: tuple[float, ...]
    book_workers: tuple[int, ...]
    warmup_s: float
    duration_s: float
    connections: int
    timeout_s: float
    keep_bookings: bool
    py_spy_dir: Path | None
    seed: int


@dataclass(frozen=True, slots=True)
class Target:
    """What a run must show: a p99 bound and, optionally, a throughput floor."""

    p99_ms: float
    min_rps: float | None = None
    counted: str = OK  # the outcome the throughput floor counts

    def met(self, stats: RunStats) -> bool:
        if stats.percentile(0.99) >= self.p99_ms or stats.count("transport") + stats.count(
            "timeout"
        ):
            return False
        if self.min_rps is None:
            return True
        return stats.count(self.counted) / stats.window_s >= self.min_rps

    def describe(self) -> str:
        floor = f", >= {self.min_rps:g} {self.counted}/s" if self.min_rps is not None else ""
        return f"p99 < {self.p99_ms:g} ms{floor}"


@dataclass
class Report:
    title: str
    target: Target
    outcome_columns: Sequence[tuple[str, str]]  # (header, outcome prefix)
    runs: list[RunStats] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        extra = [header for header, _ in self.outcome_columns]
        head = ["load", "requests", "achieved req/s", *extra, "other errors"]
        head += ["p50 ms", "p95 ms", "p99 ms", "max ms", "gen. lag p99 ms", self.target.describe()]
        lines = [f"### {self.title}", "", "| " + " | ".join(head) + " |"]
        lines.append("|---|" + "---:|" * (len(head) - 2) + "---|")
        for run in self.runs:
            listed = [run.count(prefix) for _, prefix in self.outcome_columns]
            cells = [run.load + (" (ran out of slots)" if run.exhausted else "")]
            cells += [f"{run.samples:,}", f"{run.achieved_rps:,.0f}"]
            cells += [f"{n:,}" for n in listed] + [f"{run.samples - sum(listed):,}"]
            cells += [f"{run.percentile(q):.1f}" for q in (0.50, 0.95, 0.99)]
            cells += [f"{run.max_ms:.1f}", f"{run.lag_p99_ms:.1f}"]
            cells.append("yes" if self.target.met(run) else "**no**")
            lines.append("| " + " | ".join(cells) + " |")
        others = sorted(
            {
                outcome
                for run in self.runs
                for outcome in run.outcomes
                if not any(outcome.startswith(prefix) for _, prefix in self.outcome_columns)
            }
        )
        if others:
            self.notes.append("Other outcomes: " + "; ".join(f"`{o}`" for o in others) + ".")
        if self.notes:
            lines += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines)


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


class Tokens:
    """Access tokens for patients, minted with the server's own key (no login)."""

    def __init__(self, server: ApiServer) -> None:
        self._server = server

    def patient(self, patient: Patient) -> str:
        token, _ = self._server.tokens.issue_access(
            user_id=patient.user_id,
            role=Role.PATIENT,
            family_id=uuid.uuid4(),
            patient_id=patient.id,
        )
        return token


# --- fixture -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fixture:
    doctors: list[uuid.UUID]
    patients: list[Patient]  # shuffled; each booking takes the next one
    days: list[date]  # working days (Monday to Friday) from the day after tomorrow on

    def doctor_days(self, rng: random.Random) -> list[tuple[uuid.UUID, date]]:
        pairs = [(doctor, day) for doctor in self.doctors for day in self.days]
        rng.shuffle(pairs)
        return pairs


async def load_fixture(database_url: str, rng: random.Random) -> Fixture:
    connection = await asyncpg.connect(database_url)
    try:
        doctors = [
            row["id"] for row in await connection.fetch("SELECT id FROM doctors ORDER BY id")
        ]
        rows = await connection.fetch(
            "SELECT p.id, p.user_id FROM patients p JOIN users u ON u.id = p.user_id"
            " WHERE u.is_active ORDER BY p.id"
        )
    finally:
        await connection.close()
    patients = [Patient(row["id"], row["user_id"]) for row in rows]
    rng.shuffle(patients)
    first = datetime.now(UTC).date() + timedelta(days=2)
    days = [
        first + timedelta(days=n)
        for n in range(HORIZON_DAYS)
        if (first + timedelta(days=n)).isoweekday() <= 5
    ]
    return Fixture(doctors, patients, days)


# --- the bench ---------------------------------------------------------------------------------


async def _limited(calls: Iterable[Awaitable[None]], concurrency: int) -> None:
    """Await ``calls`` (coroutines not yet started), at most ``concurrency`` at a time."""
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded(call: Awaitable[None]) -> None:
        async with semaphore:
            await call

    await asyncio.gather(*(guarded(call) for call in calls))


class Bench:
    def __init__(
        self,
        options: Options,
        server: ApiServer,
        http: aiohttp.ClientSession,
        redis: Redis,
        fixture: Fixture,
    ) -> None:
        self.options = options
        self.server = server
        self.http = http
        self.redis = redis
        self.fixture = fixture
        self.tokens = Tokens(server)
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible choices, no secrets
        self._next_patient = 0
        self.booked: list[tuple[str, Patient]] = []  # (appointment id, its patient)

    # --- helpers ---

    def take_patients(self, count: int) -> list[Patient]:
        start, self._next_patient = self._next_patient, self._next_patient + count
        if self._next_patient > len(self.fixture.patients):
            raise RuntimeError(f"more than {len(self.fixture.patients):,} bookings requested")
        return self.fixture.patients[start : self._next_patient]

    def browsing_tokens(self, count: int = 1000) -> list[str]:
        """Tokens of patients who only look at slots (the last ones, never booking)."""
        return [self.tokens.patient(p) for p in self.fixture.patients[-count:]]

    def slots_request(self, doctor: uuid.UUID, day: date, token: str) -> Request:
        variables = {"doctorId": str(doctor), "date": day.isoformat()}
        return graphql_request(SLOTS_QUERY, variables, token)

    async def post(self, request: Request) -> tuple[int, bytes]:
        async with self.http.post(
            self.server.graphql_url, data=request.body, headers=request.headers
        ) as response:
            return response.status, await response.read()

    async def flush(self) -> None:
        await self.redis.flushdb()

    def check_alive(self) -> None:
        try:
            os.kill(self.server.pid, 0)
        except ProcessLookupError:
            raise RuntimeError("the API process died:\n" + self.server.log_tail()) from None

    async def measured(
        self, label: str, run: Callable[[], Awaitable[RunStats]], load: str
    ) -> RunStats:
        """One run, with py-spy recording the server during its measured part if asked."""
        profiler: asyncio.Task[None] | None = None
        if self.options.py_spy_dir is not None:
            path = self.options.py_spy_dir / f"{label}-{load.replace(' ', '').replace('/', '')}.txt"
            profiler = asyncio.create_task(self._py_spy(path))
        stats = await run()
        if profiler is not None:
            await profiler
        self.check_alive()
        await asyncio.sleep(1.0)  # let the server and PostgreSQL settle between runs
        return stats

    async def _py_spy(self, path: Path) -> None:
        await asyncio.sleep(self.options.warmup_s + 0.1)
        path.parent.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(self.server.pid),
            "--duration",
            str(int(self.options.duration_s)),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await process.wait()

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
        for rate in self.options.miss_rates:
            needed = round((self.options.warmup_s + self.options.duration_s) * rate)
            if needed > len(pairs):
                raise RuntimeError(f"{needed:,} distinct keys needed, {len(pairs):,} exist")
            chosen = [pairs[(offset + i) % len(pairs)] for i in range(needed)]
            offset += needed
            requests = [
                self.slots_request(doctor, day, tokens[i % len(tokens)])
                for i, (doctor, day) in enumerate(chosen)
            ]
            await self.flush()

            async def run(requests: list[Request] = requests, rate: float = rate) -> RunStats:
                return await open_loop(
                    self.http,
                    self.server.graphql_url,
                    requests,
                    slots_classify,
                    rate=rate,
                    warmup_s=self.options.warmup_s,
                    duration_s=self.options.duration_s,
                )

            stats = await self.measured("miss", run, f"{rate:g}rps")
            cached = len(await self.redis.keys("slots:day:*"))
            report.runs.append(stats)
            print(
                f"  miss {stats.load}: p99 {stats.percentile(0.99):.1f} ms, "
                f"{cached:,} days cached after the run",
                file=sys.stderr,
            )
        report.notes.append(
            "Every request is a Redis miss: one statement computes the day, then it is stored."
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
        warm = [self.slots_request(d, day, tokens[0]) for d, day in pairs]
        for rate in self.options.hit_rates:
            needed = round((self.options.warmup_s + self.options.duration_s) * rate)
            requests = [
                self.slots_request(*pairs[self.rng.randrange(len(pairs))], tokens[i % len(tokens)])
                for i in range(needed)
            ]
            await self.flush()
            await _limited([self._expect_ok(r) for r in warm], SETUP_CONCURRENCY)
            before = len(await self.redis.keys("slots:day:*"))

            async def run(requests: list[Request] = requests, rate: float = rate) -> RunStats:
                return await open_loop(
                    self.http,
                    self.server.graphql_url,
                    requests,
                    slots_classify,
                    rate=rate,
                    warmup_s=self.options.warmup_s,
                    duration_s=self.options.duration_s,
                )

            stats = await self.measured("hit", run, f"{rate:g}rps")
            after = len(await self.redis.keys("slots:day:*"))
            if after != before:
                report.notes.append(f"At {rate:g} req/s {after - before} days were recomputed.")
            report.runs.append(stats)
            print(f"  hit {stats.load}: p99 {stats.percentile(0.99):.1f} ms", file=sys.stderr)
        return report

    async def _expect_ok(self, request: Request) -> None:
        status, body = await self.post(request)
        outcome = error_outcome(status, body)
        if outcome != OK:
            raise RuntimeError(f"set-up request failed: {outcome}")

    # --- scenario 3: bookAppointment ---

    async def free_slots(self, count: int) -> list[FreeSlot]:
        """At least ``count`` free future slots, from availableSlots (untimed)."""
        found: list[FreeSlot] = []
        token = self.browsing_tokens(1)[0]
        not_before = datetime.now(UTC) + timedelta(hours=2)
        pairs = iter(self.fixture.doctor_days(self.rng))

        async def fetch(doctor: uuid.UUID, day: date) -> None:
            status, body = await self.post(self.slots_request(doctor, day, token))
            if error_outcome(status, body) != OK:
                raise RuntimeError(f"availableSlots failed: {error_outcome(status, body)}")
            for slot in json.loads(body)["data"]["availableSlots"]:
                starts = datetime.fromisoformat(slot["startsAt"])
                if slot["available"] and starts > not_before:
                    found.append(FreeSlot(str(doctor), slot["clinic"]["id"], slot["startsAt"]))

        while len(found) < count:
            batch = [next(pairs, None) for _ in range(SETUP_CONCURRENCY * 8)]
            calls = [fetch(*p) for p in batch if p is not None]
            if not calls:
                break
            await _limited(calls, SETUP_CONCURRENCY)
        self.rng.shuffle(found)
        return found

    def booking_requests(self, slots: Sequence[FreeSlot]) -> tuple[list[Request], list[Patient]]:
        patients = self.take_patients(len(slots))
        requests = [
            graphql_request(
                BOOK_MUTATION,
                {
                    "input": {
                        "doctorId": slot.doctor_id,
                        "clinicId": slot.clinic_id,
                        "startsAt": slot.starts_at,
                        "idempotencyKey": uuid.uuid4().hex,
                    }
                },
                self.tokens.patient(patient),
            )
            for slot, patient in zip(slots, patients, strict=True)
        ]
        return requests, patients

    def booking_classify(self, patients: Sequence[Patient]) -> Classify:
        def classify(index: int, status: int, body: bytes) -> str:
            outcome = error_outcome(status, body)
            if outcome == OK:
                appointment = json.loads(body)["data"]["bookAppointment"]
                self.booked.append((appointment["id"], patients[index]))
            return outcome

        return classify

    async def bookings(self) -> Report:
        target_rps = 300.0
        report = Report(
            "bookAppointment (a distinct free slot and a distinct patient each)",
            Target(p99_ms=50.0, min_rps=target_rps, counted=OK),
            [("booked", OK), (SLOT_UNAVAILABLE, SLOT_UNAVAILABLE)],
        )
        span = self.options.warmup_s + self.options.duration_s
        # A closed loop is given enough for 1,000 bookings/s; it stops early if it runs out.
        needed = sum(round(span * rate) for rate in self.options.book_rates)
        needed += round(span * 1000) * len(self.options.book_workers)
        await self.flush()
        print(f"  finding {needed:,} free slots ...", file=sys.stderr)
        slots = await self.free_slots(needed)
        report.notes.append(
            f"{len(slots):,} free slots were collected from availableSlots beforehand (untimed)."
        )
        taken = 0
        for rate in self.options.book_rates:
            count = round(span * rate)
            requests, patients = self.booking_requests(slots[taken : taken + count])
            taken += count
            await self.flush()

            async def run(
                requests: list[Request] = requests,
                patients: list[Patient] = patients,
                rate: float = rate,
            ) -> RunStats:
                return await open_loop(
                    self.http,
                    self.server.graphql_url,
                    requests,
                    self.booking_classify(patients),
                    rate=rate,
                    warmup_s=self.options.warmup_s,
                    duration_s=self.options.duration_s,
                )

            stats = await self.measured("book", run, f"{rate:g}rps")
            report.runs.append(stats)
            print(f"  book {stats.load}: p99 {stats.percentile(0.99):.1f} ms", file=sys.stderr)
        for workers in self.options.book_workers:
            count = min(round(span * 1000), len(slots) - taken)
            requests, patients = self.booking_requests(slots[taken : taken + count])
            taken += count
            await self.flush()

            async def run_closed(
                requests: list[Request] = requests,
                patients: list[Patient] = patients,
                workers: int = workers,
            ) -> RunStats:
                return await closed_loop(
                    self.http,
                    self.server.graphql_url,
                    requests,
                    self.booking_classify(patients),
                    workers=workers,
                    warmup_s=self.options.warmup_s,
                    duration_s=self.options.duration_s,
                )

            stats = await self.measured("book", run_closed, f"{workers}workers")
            report.runs.append(stats)
            print(f"  book {stats.load}: {stats.achieved_rps:.0f}/s", file=sys.stderr)
        report.notes.append(
            "Closed-loop rows: latency from the actual send (no queueing before it); "
            "their target column checks the throughput floor and p99 the same way."
        )
        return report

    async def cancel_bookings(self) -> int:
        """Cancel every booking this run made, through cancelAppointment (untimed)."""
        cancelled = 0

        async def cancel(appointment_id: str, patient: Patient) -> None:
            nonlocal cancelled
            request = graphql_request(
                CANCEL_MUTATION, {"id": appointment_id}, self.tokens.patient(patient)
            )
            status, body = await self.post(request)
            if error_outcome(status, body) == OK:
                cancelled += 1

        calls = [cancel(a, p) for a, p in self.booked]
        await _limited(calls, SETUP_CONCURRENCY)
        return cancelled


# --- main --------------------------------------------------------------------------------------


def _header(options: Options) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()

    return (
        f"Scheduling at scale: one `medappt serve --workers 1` (uvloop, httptools), "
        f"{os.cpu_count()} CPUs shared with PostgreSQL, Redis and this generator; "
        f"commit {commit or '?'}; {options.warmup_s:g} s warm-up + "
        f"{options.duration_s:g} s measured per row; Redis flushed before each row.\n"
        f"Latency in open-loop rows counts from each request's due time (queueing included)."
    )


async def run(options: Options) -> list[Report]:
    rng = random.Random(options.seed)  # noqa: S311
    fixture = await load_fixture(options.database_url, rng)
    print(
        f"{len(fixture.doctors)} doctors, {len(fixture.patients):,} patients, "
        f"{len(fixture.days)} working days ahead",
        file=sys.stderr,
    )
    reports: list[Report] = []
    redis = Redis.from_url(options.redis_url)
    try:
        with running_api(options.database_url, options.redis_url) as server:
            print(f"API pid {server.pid} at {server.url}", file=sys.stderr)
            async with client_session(options.connections, options.timeout_s) as http:
                bench = Bench(options, server, http, redis, fixture)
                try:
                    scenarios: dict[str, Callable[[], Awaitable[Report]]] = {
                        "miss": bench.slots_miss,
                        "hit": bench.slots_hit,
                        "book": bench.bookings,
                    }
                    for name in options.scenarios:
                        print(f"scenario {name}", file=sys.stderr)
                        reports.append(await scenarios[name]())
                finally:
                    if bench.booked and not options.keep_bookings:
                        started = time.perf_counter()
                        cancelled = await bench.cancel_bookings()
                        print(
                            f"cancelled {cancelled:,} of {len(bench.booked):,} bookings "
                            f"in {time.perf_counter() - started:.0f} s",
                            file=sys.stderr,
                        )
    finally:
        await redis.flushdb()
        await redis.aclose()
    return reports


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed before each run")
    parser.add_argument("--scenarios", default="miss,hit,book", help="of miss, hit, book")
    parser.add_argument("--miss-rates", default="100,150,200,300", help="req/s, comma-separated")
    parser.add_argument("--hit-rates", default="300,500,750")
    parser.add_argument("--hit-keys", type=int, default=500, help="doctor-days kept warm")
    parser.add_argument("--book-rates", default="300")
    parser.add_argument("--book-workers", default="16", help="closed-loop concurrency(ies)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--connections", type=int, default=512, help="client connection pool")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--keep-bookings", action="store_true", help="do not cancel them")
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the server with py-spy (raw stacks) during every measured part",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    unknown = set(scenarios) - {"miss", "hit", "book"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return Options(
        database_url=args.database_url,
        redis_url=args.redis_url,
        scenarios=scenarios,
        miss_rates=_numbers(args.miss_rates),
        hit_rates=_numbers(args.hit_rates),
        hit_keys=args.hit_keys,
        book_rates=_numbers(args.book_rates),
        book_workers=tuple(int(n) for n in _numbers(args.book_workers)),
        warmup_s=args.warmup,
        duration_s=args.duration,
        connections=args.connections,
        timeout_s=args.timeout,
        keep_bookings=args.keep_bookings,
        py_spy_dir=args.py_spy,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    reports = uvloop.run(run(options))
    print(_header(options) + "\n")
    for report in reports:
        print(report.markdown() + "\n")


if __name__ == "__main__":
    main()
