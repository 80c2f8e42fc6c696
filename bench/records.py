"""A patient's records over HTTP: ``medappt serve`` against a hand-written baseline.

Run with ``python -m bench.records [--profile DIR]``. Creates the database
``medappt_bench_records`` on the local PostgreSQL (dropped again at the end), migrates it,
and stores one patient with 50 AVAILABLE records from 3 doctors; starts a moto S3 server
(links are only signed, objects need not exist) and uses Redis database 6 (flushed before
each run and at the end).

Then, one server at a time (the machine is small), each started afresh: ``medappt serve
--workers 1`` (A, the product) and ``python -m bench.records_baseline`` (B: one SQL
statement, no GraphQL; its docstring describes the ``full``/``verify``/``none`` token checks
and ``+audit``) answer ``QUERY`` for a closed loop of ``--connections`` clients in this
process (aiohttp): ``--warmup`` seconds not measured, then ``--duration`` seconds measured.
Before each run the answer is checked: 50 records, the same JSON from A and B (links
compared without their signature), the same links again on a second request. CPU is read
from ``/proc`` for the server, the bench database's PostgreSQL processes, Redis, this
generator and everything else ("others": the bench waits for the machine to be quiet
before each run, up to ``--quiet-wait`` seconds).

- ``warm`` runs send one caller's token, so every link is reused after the first request,
  as for a user paging through their records; ``cold`` runs (A and the first B) give every
  request a token of a different user for the same patient, so all 50 links are signed.
- ``--products``: A's app run by ``--serve-product`` (the same app and uvicorn settings as
  ``medappt serve``) with the garbage collector's time counted through ``gc.callbacks``:
  as ``medappt serve`` sets the collector (``asis``), with Python's defaults (``default``),
  or with ``gc.freeze()`` after start-up and/or another first-generation threshold, to
  price those settings without changing the product (see :func:`product_spec`).
- ``--shapes``: A again, shorter runs, with lighter queries (no links, no doctor, ...), so
  the difference prices each part of the query.
- ``--profile DIR``: A and the first B once more under the same load while py-spy records
  them (``--native``, so the collector and C code show); the samples of the event-loop
  thread are sorted into where the time goes and scaled by the CPU per request measured
  in the run without py-spy.

Prints Markdown.
"""

import argparse
import asyncio
import gc
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import uvicorn
import uvloop
from joserfc.jwk import KeySet
from redis.asyncio import Redis
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.load import OK, Request, RunStats, client_session, closed_loop
from db.engine import create_engine, session_factory
from db.enums import RecordStatus, RecordType, Role
from db.ids import uuid7
from db.migrate import upgrade_async
from db.models import Doctor, MedicalRecord, Patient, User
from devtools.embedded.process import free_port
from devtools.embedded.s3 import EmbeddedS3
from medappt.asgi import app_from_env
from services.auth.keys import TokenKeys, generate_signing_key, public_part
from services.auth.tokens import TokenService
from services.settings import load_settings
from services.storage import ensure_bucket, s3_client

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "medappt_bench_records"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
BUCKET = "medappt-bench-records"
RECORDS = 50
DOCTORS = 3

QUERY = (
    "query P($id: ID!) { patient(id: $id) { id name records(first: 50) { edges { node "
    "{ id title recordType uploadedAt doctor { name } documentUrl } } } } }"
)

_READY_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- options -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    admin_url: str
    database: str
    redis_url: str
    connections: int
    warmup_s: float
    duration_s: float
    timeout_s: float
    baselines: tuple[str, ...]  # of full, verify, none, full+audit
    products: tuple[str, ...]  # instrumented variants of A: asis, default, freeze, tN, ...
    cold: bool
    shapes: tuple[str, ...]  # run on A with a shorter duration: "full" and lighter ones
    shape_duration_s: float
    profile_dir: Path | None
    profile_s: float
    native: bool
    keep_database: bool
    quiet_wait_s: float
    max_others: float  # CPUs other processes may use during a measured part
    attempts: int


# --- fixture -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fixture:
    patient_id: uuid.UUID
    user_id: uuid.UUID


def database_url(admin_url: str, database: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _check_name(database: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise ValueError(f"not a plain database name: {database!r}")
    return database


async def recreate_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_check_name(database)} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {_check_name(database)}")
    finally:
        await connection.close()


async def drop_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_check_name(database)} WITH (FORCE)")
    finally:
        await connection.close()


async def seed(url: str) -> Fixture:
    """One patient (with its user) and 50 AVAILABLE records from 3 doctors, newest last."""
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            patient_user = User(
                id=uuid7(), email="bench.patient@example.test", password_hash="-", role=Role.PATIENT
            )
            session.add(patient_user)
            await session.flush()
            patient = Patient(
                id=uuid7(),
                user_id=patient_user.id,
                name="Pat Bench",
                date_of_birth=date(1980, 1, 2),
            )
            session.add(patient)
            doctors: list[Doctor] = []
            for n in range(DOCTORS):
                user = User(
                    id=uuid7(),
                    email=f"bench.dr{n}@example.test",
                    password_hash="-",
                    role=Role.DOCTOR,
                )
                session.add(user)
                await session.flush()
                doctors.append(
                    Doctor(
                        id=uuid7(), user_id=user.id, name=f"Dr. Bench {n}", specialty="Cardiology"
                    )
                )
            session.add_all(doctors)
            await session.flush()
            types = list(RecordType)
            base = datetime(2026, 1, 1, tzinfo=UTC)
            for n in range(RECORDS):
                record_id = uuid7()
                session.add(
                    MedicalRecord(
                        id=record_id,
                        patient_id=patient.id,
                        doctor_id=doctors[n % DOCTORS].id,
                        uploaded_by_user_id=doctors[n % DOCTORS].user_id,
                        record_type=types[n % len(types)],
                        title=f"Report {n:03}",
                        file_name=f"report {n:03}.pdf",
                        content_type="application/pdf",
                        size_bytes=10_000 + n,
                        s3_key=f"patients/{patient.id}/{record_id}/report_{n:03}.pdf",
                        status=RecordStatus.AVAILABLE,
                        uploaded_at=base + timedelta(hours=n),
                    )
                )
        return Fixture(patient_id=patient.id, user_id=patient_user.id)
    finally:
        await engine.dispose()


async def audit_rows(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM audit_log")
        return count
    finally:
        await connection.close()


# --- servers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerSpec:
    label: str  # "A", "B full", ...
    description: str
    command: tuple[str, ...]  # the port is appended
    env: dict[str, str] = field(default_factory=dict)
    instrumented: bool = False  # answers GET /bench/gc


PRODUCT_VARIANT = re.compile(r"asis|default|freeze|t(\d+)|freeze\+t(\d+)")


def product_spec(variant: str = "plain") -> ServerSpec:
    """``medappt serve``, or (any other variant) the same app run by :func:`serve_product`
    with the collector's time counted: ``asis`` leaves the collector as ``medappt serve``
    sets it; ``default`` puts back Python's defaults (nothing frozen, thresholds 700, 10,
    10); ``freeze``, ``tN`` and ``freeze+tN`` start from the defaults and call
    ``gc.freeze()`` at the first request (after start-up, services open) and/or set the
    first generation's threshold to N."""
    if variant == "plain":
        medappt = Path(sys.executable).with_name("medappt")
        return ServerSpec(
            "A",
            "`medappt serve --workers 1` (Strawberry, SQLAlchemy ORM, DataLoaders, audit)",
            (str(medappt), "serve", "--host", "127.0.0.1", "--workers", "1", "--port"),
        )
    match = PRODUCT_VARIANT.fullmatch(variant)
    if match is None:
        raise ValueError(f"unknown product variant {variant!r}")
    threshold = match.group(1) or match.group(2) or "0"
    freeze = variant.startswith("freeze")
    if variant == "asis":
        description = "A with the collector's time counted (GC as `medappt serve` sets it)"
    else:
        changes = [
            *(["`gc.freeze()` at the first request"] if freeze else []),
            *([f"`gc.set_threshold({threshold}, 10, 10)`"] if threshold != "0" else []),
        ]
        description = "A with the collector's time counted, Python's default GC" + (
            " + " + " and ".join(changes) if changes else ""
        )
    return ServerSpec(
        f"A {variant}",
        description,
        (sys.executable, "-m", "bench.records", "--serve-product"),
        {
            "BENCH_GC": "asis" if variant == "asis" else "set",
            "BENCH_GC_FREEZE": "1" if freeze else "0",
            "BENCH_GC_THRESHOLD0": threshold,
        },
        instrumented=True,
    )


BASELINE_DESCRIPTIONS = {
    "full": "baseline: one SQL statement, verify_access + Redis revoked check",
    "verify": "baseline: one SQL statement, verify_access only",
    "none": "baseline: one SQL statement, no token check",
    "full+audit": "baseline `full` + the same audit rows (one INSERT ... unnest)",
}


def baseline_spec(variant: str) -> ServerSpec:
    auth, _, audit = variant.partition("+")
    return ServerSpec(
        f"B {variant}",
        BASELINE_DESCRIPTIONS[variant],
        (sys.executable, "-m", "bench.records_baseline", "--host", "127.0.0.1", "--port"),
        {"BENCH_BASELINE_AUTH": auth, "BENCH_BASELINE_AUDIT": "1" if audit == "audit" else "0"},
    )


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    url: str
    log_path: Path

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def _log_file(path: Path) -> Iterator[IO[bytes]]:
    with path.open("wb") as log:
        yield log


def _tail(path: Path, characters: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-characters:]
    except OSError:
        return ""


async def _wait_ready(process: asyncio.subprocess.Process, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    timeout = aiohttp.ClientTimeout(total=2.0)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                tail = _tail(log_path)
                raise RuntimeError(f"{url} exited with {process.returncode}:\n{tail}")
            try:
                async with http.get(f"{url}/ready") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} was not ready within {_READY_TIMEOUT_S:.0f} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
    try:
        await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def running(spec: ServerSpec, env: dict[str, str], data_dir: Path) -> AsyncIterator[Server]:
    port = free_port()
    log_path = data_dir / f"{spec.label.replace(' ', '-').replace('+', '-')}-{port}.log"
    with _log_file(log_path) as log:
        process = await asyncio.create_subprocess_exec(
            *spec.command,
            str(port),
            cwd=ROOT,
            env={**env, **spec.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(process, url, log_path)
            yield Server(pid=process.pid, url=url, log_path=log_path)
        finally:
            await _stop(process)


# --- the product, instrumented ------------------------------------------------------------------

GC_PATH = "/bench/gc"


class GcClock:
    """CPU seconds the cyclic garbage collector spends, by generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self._started = 0.0
        self.collections = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.collected = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time()
            return
        generation = info["generation"]
        self.seconds[generation] += time.thread_time() - self._started
        self.collections[generation] += 1
        self.collected[generation] += info["collected"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "collections": self.collections,
            "seconds": self.seconds,
            "collected": self.collected,
            "tracked": len(gc.get_objects()),
            "frozen": gc.get_freeze_count(),
            "threshold": gc.get_threshold(),
        }


class InstrumentedProduct:
    """``medappt serve``'s app, answering ``GET /bench/gc`` with the collector's clock and,
    if asked, freezing every object alive at the first request (after start-up)."""

    def __init__(self, app: ASGIApp, clock: GcClock, *, freeze: bool) -> None:
        self._app = app
        self._clock = clock
        self._freeze_pending = freeze

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._freeze_pending:
                self._freeze_pending = False
                gc.collect()
                gc.freeze()
            if scope["path"] == GC_PATH:
                await JSONResponse(self._clock.as_dict())(scope, receive, send)
                return
        await self._app(scope, receive, send)


def instrumented_product_app() -> InstrumentedProduct:
    """The uvicorn factory for ``--serve-product``: configured by ``BENCH_GC*``."""
    app = app_from_env()  # which may tune the collector itself
    freeze = False
    if os.environ.get("BENCH_GC", "asis") != "asis":
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)  # Python's defaults
        threshold = int(os.environ.get("BENCH_GC_THRESHOLD0", "0"))
        if threshold > 0:
            gc.set_threshold(threshold, 10, 10)
        freeze = os.environ.get("BENCH_GC_FREEZE", "0") == "1"
    clock = GcClock()
    gc.callbacks.append(clock)
    return InstrumentedProduct(app, clock, freeze=freeze)


def serve_product(port: int) -> None:
    """``medappt serve --host 127.0.0.1 --workers 1 --port PORT``, the app instrumented."""
    load_settings(os.environ).require_servers()
    uvicorn.run(
        "bench.records:instrumented_product_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=1,
        proxy_headers=True,
    )


# --- CPU accounting ----------------------------------------------------------------------------


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


@dataclass(frozen=True, slots=True)
class _Process:
    pid: int
    ppid: int
    name: str
    cmdline: str
    cpu_s: float


def _processes() -> list[_Process]:
    found: list[_Process] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        found.append(
            _Process(
                pid=int(entry.name),
                ppid=int(fields[1]),
                name=stat[stat.find("(") + 1 : stat.rfind(")")],
                cmdline=cmdline,
                cpu_s=(int(fields[11]) + int(fields[12])) / _CLOCK_TICKS,
            )
        )
    return found


def _machine_busy_s() -> float:
    """CPU seconds all CPUs spent busy since boot (``/proc/stat``)."""
    with Path("/proc/stat").open() as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


@dataclass(frozen=True, slots=True)
class Probe:
    """Which processes are the bench's: the server, its database's PostgreSQL processes,
    Redis, this generator; anything else busy on the machine is "others"."""

    server_pid: int
    database: str
    redis_port: int


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    server_s: float
    postgres_s: float
    redis_s: float
    client_s: float
    machine_s: float

    @classmethod
    def take(cls, probe: Probe) -> "CpuSnapshot":
        processes = _processes()
        # Backends of the bench database, and the cluster's background processes (WAL
        # writer, checkpointer, autovacuum: they work for the audit INSERTs too).
        backends = [
            p for p in processes if p.name == "postgres" and f" {probe.database} " in p.cmdline
        ]
        clusters = {p.ppid for p in backends}
        auxiliary = [
            p
            for p in processes
            if p.name == "postgres" and p.ppid in clusters and "(" not in p.cmdline
        ]
        redis = [
            p for p in processes if p.name == "redis-server" and f":{probe.redis_port}" in p.cmdline
        ]
        server = [p for p in processes if p.pid == probe.server_pid]
        return cls(
            at=time.perf_counter(),
            server_s=sum(p.cpu_s for p in server),
            postgres_s=sum(p.cpu_s for p in (*backends, *auxiliary)),
            redis_s=sum(p.cpu_s for p in redis),
            client_s=time.process_time(),
            machine_s=_machine_busy_s(),
        )


@dataclass(frozen=True, slots=True)
class CpuUse:
    wall_s: float
    server_s: float
    postgres_s: float
    redis_s: float
    client_s: float
    others_s: float  # everything else that kept the machine's CPUs busy

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> "CpuUse":
        server = after.server_s - before.server_s
        postgres = after.postgres_s - before.postgres_s
        redis = after.redis_s - before.redis_s
        client = after.client_s - before.client_s
        machine = after.machine_s - before.machine_s
        return cls(
            wall_s=after.at - before.at,
            server_s=server,
            postgres_s=postgres,
            redis_s=redis,
            client_s=client,
            others_s=max(0.0, machine - server - postgres - redis - client),
        )


async def wait_for_quiet(max_wait_s: float, cores: float = 0.25) -> float:
    """Wait until processes that are not the bench's use less than ``cores`` CPUs (others
    may be benchmarking or testing on the same machine); the last level seen."""
    started = time.monotonic()
    told = -math.inf
    while True:
        machine, client = _machine_busy_s(), time.process_time()
        await asyncio.sleep(2.0)
        level = (_machine_busy_s() - machine - (time.process_time() - client)) / 2.0
        waited = time.monotonic() - started
        if level < cores or waited > max_wait_s:
            return level
        if waited - told >= 30.0:
            told = waited
            print(f"  waiting: other processes keep {level:.2f} CPUs busy", file=sys.stderr)


@dataclass(frozen=True, slots=True)
class GcUse:
    """The collector's work during a window, by generation, from an instrumented server."""

    collections: tuple[int, int, int]
    seconds: tuple[float, float, float]
    tracked: int  # objects the collector tracks at the end (frozen ones excluded)
    frozen: int

    @classmethod
    def between(cls, before: dict[str, Any], after: dict[str, Any]) -> "GcUse":
        c = [
            int(a) - int(b)
            for a, b in zip(after["collections"], before["collections"], strict=True)
        ]
        t = [float(a) - float(b) for a, b in zip(after["seconds"], before["seconds"], strict=True)]
        return cls(
            collections=(c[0], c[1], c[2]),
            seconds=(t[0], t[1], t[2]),
            tracked=int(after["tracked"]),
            frozen=int(after["frozen"]),
        )


async def _gc_clock(server: Server) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(server.url + GC_PATH) as response:
        clock: dict[str, Any] = await response.json()
        return clock


async def _window(
    server: Server, probe: Probe, instrumented: bool, warmup_s: float, duration_s: float
) -> tuple[CpuUse, GcUse | None]:
    """CPU (and, from an instrumented server, GC) used during the measured part of a run
    that starts now."""
    await asyncio.sleep(warmup_s)
    before_gc = await _gc_clock(server) if instrumented else None
    before = CpuSnapshot.take(probe)
    await asyncio.sleep(duration_s)
    cpu = CpuUse.between(before, CpuSnapshot.take(probe))
    if before_gc is None:
        return cpu, None
    return cpu, GcUse.between(before_gc, await _gc_clock(server))


# --- requests and answers ----------------------------------------------------------------------

# The benchmarked query and lighter ones, to price each part of it on the product.
SHAPES: dict[str, str] = {
    "full": QUERY,
    "no documentUrl": QUERY.replace(" documentUrl", ""),
    "no doctor": QUERY.replace(" doctor { name }", ""),
    "scalars only": QUERY.replace(" doctor { name } documentUrl", ""),
    "patient only": "query P($id: ID!) { patient(id: $id) { id name } }",
}


def graphql_request(patient_id: uuid.UUID, token: str, query: str = QUERY) -> Request:
    body = {"query": query, "variables": {"id": str(patient_id)}}
    return Request(
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )


def classify(_: int, status: int, body: bytes) -> str:
    if status != 200:
        return f"HTTP {status}"
    if b'"errors"' in body:
        return "GraphQL errors"
    return OK


async def post(http: aiohttp.ClientSession, url: str, request: Request) -> dict[str, Any]:
    async with http.post(url, data=request.body, headers=request.headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {await response.text()}")
        answer: dict[str, Any] = json.loads(await response.read())
        if answer.get("errors") or answer.get("data", {}).get("patient") is None:
            raise RuntimeError(f"{url}: unexpected answer: {json.dumps(answer)[:500]}")
        return answer


def links(answer: dict[str, Any]) -> list[str]:
    edges = answer["data"]["patient"]["records"]["edges"]
    return [edge["node"]["documentUrl"] for edge in edges]


def normalized(answer: dict[str, Any]) -> str:
    """The answer with each link's query string (its signature and time) left out."""
    copy = json.loads(json.dumps(answer))
    for edge in copy["data"]["patient"]["records"]["edges"]:
        edge["node"]["documentUrl"] = edge["node"]["documentUrl"].partition("?")[0]
    return json.dumps(copy)


async def check_answer(
    http: aiohttp.ClientSession, server: Server, request: Request, reference: str | None
) -> str:
    """The server's answer to ``QUERY``, normalized, after checking it against ``reference``
    (the product's): 50 records, the same JSON, the same links again on a second request."""
    first = await post(http, server.graphql_url, request)
    second = await post(http, server.graphql_url, request)
    got = normalized(first)
    count = len(links(first))
    if count != RECORDS:
        raise RuntimeError(f"{server.url}: {count} records, not {RECORDS}")
    if links(first) != links(second):
        raise RuntimeError(f"{server.url}: the second request did not reuse the links")
    if reference is not None and got != reference:
        raise RuntimeError(f"{server.url} answers differently:\n{got[:800]}\n{reference[:800]}")
    return got


# --- runs --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    spec: ServerSpec
    links: str  # warm or cold
    shape: str  # a key of SHAPES
    series: str  # "main" or "shapes"
    stats: RunStats
    cpu: CpuUse
    gc: GcUse | None
    audit_rows: int  # written during the whole run, warm-up included
    response_bytes: int

    def per_request_ms(self, seconds: float) -> float:
        return seconds / self.stats.samples * 1e3 if self.stats.samples else float("nan")

    @property
    def server_ms(self) -> float:
        return self.per_request_ms(self.cpu.server_s)

    @property
    def audit_per_request(self) -> float:
        return self.audit_rows / self.stats.replies if self.stats.replies else 0.0


@dataclass
class Bench:
    options: Options
    fixture: Fixture
    url: str  # the bench database
    env: dict[str, str]  # for every server
    tokens: TokenService
    data_dir: Path
    redis: Redis
    reference: str | None = None
    results: list[Result] = field(default_factory=list)
    profiles: list[tuple[ServerSpec, Path]] = field(default_factory=list)

    @property
    def redis_port(self) -> int:
        return urlsplit(self.options.redis_url).port or 6379

    def token(self, user_id: uuid.UUID | None = None) -> str:
        token, _ = self.tokens.issue_access(
            user_id=user_id or self.fixture.user_id,
            role=Role.PATIENT,
            family_id=uuid.uuid4(),
            patient_id=self.fixture.patient_id,
        )
        return token

    def requests(self, cold: bool, query: str, span_s: float) -> list[Request]:
        if not cold:
            # The same caller again and again: a closed loop never runs out of these.
            request = graphql_request(self.fixture.patient_id, self.token(), query)
            return [request] * round(span_s * 20_000)
        # A different user for every request (same patient): every link is new to its caller.
        count = round(span_s * 400)
        return [
            graphql_request(self.fixture.patient_id, self.token(uuid7()), query)
            for _ in range(count)
        ]

    async def measure(
        self,
        spec: ServerSpec,
        *,
        cold: bool = False,
        shape: str = "full",
        duration_s: float = 0,
        series: str = "main",
    ) -> Result:
        """One row: run again (up to ``--attempts``) while other processes took more than
        ``--max-others`` CPUs during the measured part; the least disturbed run is kept."""
        runs: list[Result] = []
        for attempt in range(1, self.options.attempts + 1):
            result = await self._measure_once(spec, cold, shape, duration_s, series)
            runs.append(result)
            others = result.cpu.others_s / result.cpu.wall_s
            if others <= self.options.max_others:
                break
            print(
                f"  attempt {attempt}: other processes used {others:.2f} CPUs, "
                f"more than {self.options.max_others:g}",
                file=sys.stderr,
            )
        best = min(runs, key=lambda r: r.cpu.others_s / r.cpu.wall_s)
        self.results.append(best)
        return best

    async def _measure_once(
        self, spec: ServerSpec, cold: bool, shape: str, duration_s: float, series: str
    ) -> Result:
        duration_s = duration_s or self.options.duration_s
        warmup_s = self.options.warmup_s
        await wait_for_quiet(self.options.quiet_wait_s)
        await self.redis.flushdb()
        requests = self.requests(cold, SHAPES[shape], warmup_s + duration_s)
        before_audit = await audit_rows(self.url)
        async with (
            running(spec, self.env, self.data_dir) as server,
            client_session(self.options.connections, self.options.timeout_s) as http,
        ):
            if shape == "full":
                answer = await check_answer(http, server, requests[0], self.reference)
                self.reference = self.reference or answer
            size = len(json.dumps(await post(http, server.graphql_url, requests[0])))
            probe = Probe(server.pid, self.options.database, self.redis_port)
            window = asyncio.create_task(
                _window(server, probe, spec.instrumented, warmup_s, duration_s)
            )
            stats = await closed_loop(
                http,
                server.graphql_url,
                requests,
                classify,
                workers=self.options.connections,
                warmup_s=warmup_s,
                duration_s=duration_s,
            )
            cpu, gc_use = await window
            if stats.count(OK) != stats.samples:
                raise RuntimeError(f"{spec.label}: {stats.outcomes}\n{server.log_tail()}")
        result = Result(
            spec=spec,
            links="cold" if cold else "warm",
            shape=shape,
            series=series,
            stats=stats,
            cpu=cpu,
            gc=gc_use,
            audit_rows=await audit_rows(self.url) - before_audit,
            response_bytes=size,
        )
        gc_note = ""
        if gc_use is not None:
            gc_note = f", GC {result.per_request_ms(sum(gc_use.seconds)):.2f} ms/request"
        print(
            f"  {spec.label} {result.links} {shape}: {stats.achieved_rps:,.0f} req/s, "
            f"p50 {stats.percentile(0.5):.1f} ms, p99 {stats.percentile(0.99):.1f} ms, "
            f"server CPU {result.server_ms:.2f} ms/request{gc_note}, "
            f"others {cpu.others_s / cpu.wall_s:.2f} CPUs"
            + (" (ran out of requests)" if stats.exhausted else ""),
            file=sys.stderr,
        )
        await asyncio.sleep(1.0)  # let PostgreSQL settle (autovacuum of audit_log, ...)
        return result

    async def profile(self, spec: ServerSpec, directory: Path) -> Path:
        """The same warm load again, py-spy recording the server after the warm-up."""
        await wait_for_quiet(self.options.quiet_wait_s)
        await self.redis.flushdb()
        span = self.options.warmup_s + self.options.profile_s + 1.0
        requests = self.requests(False, QUERY, span)
        path = directory / f"records-{spec.label.replace(' ', '-').replace('+', '-')}.txt"
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        async with (
            running(spec, self.env, self.data_dir) as server,
            client_session(self.options.connections, self.options.timeout_s) as http,
        ):
            recorder = asyncio.create_task(self._py_spy(server.pid, path))
            await closed_loop(
                http,
                server.graphql_url,
                requests,
                classify,
                workers=self.options.connections,
                warmup_s=self.options.warmup_s,
                duration_s=self.options.profile_s + 1.0,
            )
            await recorder
        self.profiles.append((spec, path))
        print(f"  profiled {spec.label}: {path}", file=sys.stderr)
        return path

    async def _py_spy(self, pid: int, path: Path) -> None:
        await asyncio.sleep(self.options.warmup_s)
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(round(self.options.profile_s)),
            "--rate",
            str(PROFILE_RATE),
            "--threads",
            *(["--native"] if self.options.native else []),
            "--format",
            "raw",
            "--output",
            str(path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if await process.wait() != 0:
            raise RuntimeError(f"py-spy failed for pid {pid}")


# --- profile categories ------------------------------------------------------------------------

PROFILE_RATE = 200
GC_FRAMES = ("gc_collect_main", "gc_collect_with_callback", "gc_collect_generations")
GC_CATEGORY = "GC: cyclic garbage collector (all generations)"

# (category, frame substrings): a sample of the event-loop thread goes to the first rule with
# any substring in any of its frames. Order matters: specific work before the layers under it.
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (GC_CATEGORY, GC_FRAMES),
    ("uvicorn access log", ("logging/__init__.py", "uvicorn/logging.py")),
    ("token: verify_access (Ed25519, joserfc)", ("TokenService.verify_access",)),
    ("token: revoked check (Redis EXISTS)", ("is_revoked",)),
    ("links: signing (botocore presign)", ("generate_presigned_url",)),
    ("links: loader, reuse lookups, audit events", ("load_document_urls", "read_url (medappt/")),
    # SQLAlchemy runs statements in a greenlet, where stacks lose the caller's frames: the
    # statements are told apart by what they do, and round-trip overheads are pooled.
    ("SQL: pool pre-ping (a round trip at each checkout)", ("_async_ping", "do_ping")),
    (
        "SQL: BEGIN / COMMIT / ROLLBACK, session close, pool return",
        (
            "asyncpg/transaction.py",
            "_start_transaction",
            "Session.close",
            "SessionTransaction.close",
            "SessionTransaction.commit",
            "_finalize_fairy",
        ),
    ),
    ("SQL: audit INSERT statement", ("AuditTrail.flush", "bulk_persistence.py", "_audit (bench/")),
    (
        "SQL: the SELECTs (patient and records loaders, ORM rows)",
        ("load_readable_patients", "load_records", "orm_execute_statement (", "fetch (asyncpg"),
    ),
    ("GraphQL: build Connection/edges/nodes (resolver)", ("from_page", "from_model")),
    ("SQL: other (sessions, connections)", ("sqlalchemy/", "asyncpg/")),
    ("GraphQL: parse + validate (cached)", ("graphql/language/", "graphql/validation/")),
    ("GraphQL: execute (graphql-core + Strawberry fields)", ("graphql/execution/",)),
    ("DataLoader scheduling", ("aiodataloader/",)),
    ("context: loaders, audit trail", ("build_context", "get_context")),
    ("JSON: response encode", ("json/encoder", "dumps (json/")),
    ("JSON: request decode", ("json/decoder", "loads (json/")),
    ("Strawberry HTTP view + schema hooks", ("strawberry/",)),
    ("baseline handler (bench/records_baseline.py)", ("records_baseline.py",)),
    ("HTTP: Starlette + uvicorn", ("starlette/", "uvicorn/protocols", "uvicorn/middleware")),
    ("event loop: uvloop, task steps, deallocation", ("",)),
)

# Where SQL samples are spent, whatever the statement (GC excluded).
SQL_LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ORM: row materialization (orm/loading.py)", ("sqlalchemy/orm/loading.py",)),
    ("SQLAlchemy: compile / cache key", ("sql/compiler.py", "cache_key.py", "_compile_w_cache")),
    ("asyncpg: protocol + decoding", ("asyncpg/", "asyncpg.pgproto", "protocol.c")),
    ("SQLAlchemy asyncpg dialect adaptation", ("dialects/postgresql/asyncpg.py",)),
    ("SQLAlchemy pool checkout/return", ("sqlalchemy/pool/",)),
    ("SQLAlchemy session / result / other", ("sqlalchemy/",)),
)

# Inside "GraphQL: execute", by the innermost Python frame (self time), GC excluded.
EXECUTE_OWNERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("graphql-core executor (complete_*, execute_fields, paths)", ("graphql/",)),
    ("asyncio (tasks, futures, gather)", ("asyncio/", "_weakrefset.py")),
    ("Strawberry field wrappers, scalars, is_type_of", ("strawberry/",)),
    ("DataLoader (load, cache)", ("aiodataloader/",)),
    ("SQLAlchemy attribute access on rows", ("sqlalchemy/",)),
    ("the project's types and resolvers", ("schema/", "resolvers/", "domain/", "loaders/")),
    ("other", ("",)),
)

_MAIN_THREAD_MARK = "uvicorn/server.py"
_ASYNCIO_NATIVE = ("_asynciomodule.c", "(loop.c", "loop.cpython", "_asyncio")


@dataclass(frozen=True, slots=True)
class Profile:
    phases: Counter[str]
    sql_layers: Counter[str]
    gc_triggers: Counter[str]  # GC samples by the phase that triggered the collection
    execute_owners: Counter[str]
    main_samples: int
    all_samples: int


def _first(rules: Sequence[tuple[str, tuple[str, ...]]], frames: Sequence[str]) -> str | None:
    for category, markers in rules:
        if any(marker in frame for marker in markers for frame in frames):
            return category
    return None


def _execute_owner(frames: Sequence[str]) -> str:
    python = [i for i, frame in enumerate(frames) if ".py:" in frame]
    innermost = python[-1] if python else 0
    if any(any(m in frame for m in _ASYNCIO_NATIVE) for frame in frames[innermost + 1 :]):
        return EXECUTE_OWNERS[1][0]
    return _first(EXECUTE_OWNERS, frames[innermost : innermost + 1]) or EXECUTE_OWNERS[-1][0]


def _event_loop_thread(frames: Sequence[str]) -> bool:
    """Whether a sample is of uvicorn's thread: named by ``--threads``; without it, known
    by uvicorn's frame (which native unwinding sometimes loses)."""
    if frames and frames[0].startswith("thread ("):
        return frames[0].endswith(": MainThread")
    return any(_MAIN_THREAD_MARK in frame for frame in frames)


def read_profile(path: Path) -> Profile:
    profile = Profile(Counter(), Counter(), Counter(), Counter(), 0, 0)
    main = total = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            frames = stack.split(";")
            if not _event_loop_thread(frames):
                continue
            main += count
            phase = _first(PHASES, frames) or PHASES[-1][0]
            profile.phases[phase] += count
            if phase == GC_CATEGORY:
                profile.gc_triggers[_first(PHASES[1:], frames) or PHASES[-1][0]] += count
                continue
            layer = _first(SQL_LAYERS, frames)
            if layer is not None:
                profile.sql_layers[layer] += count
            if phase.startswith("GraphQL: execute"):
                profile.execute_owners[_execute_owner(frames)] += count
    return Profile(
        profile.phases,
        profile.sql_layers,
        profile.gc_triggers,
        profile.execute_owners,
        main,
        total,
    )


# --- report ------------------------------------------------------------------------------------


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    ).stdout.strip()


def _results_table(results: Sequence[Result]) -> list[str]:
    head = "| server | links | requests | req/s | p50 ms | p95 ms | p99 ms | max ms "
    head += "| server CPU % | server CPU ms/req | PostgreSQL CPU ms/req | Redis CPU ms/req "
    head += "| client CPU ms/req | others' CPU % | audit rows/req | reply bytes |"
    lines = [head, "|---|---|" + "---:|" * 14]
    for r in results:
        s = r.stats
        cells = [
            f"{r.spec.label}",
            r.links,
            f"{s.samples:,}",
            f"{s.achieved_rps:,.0f}",
            *(f"{s.percentile(q):.1f}" for q in (0.5, 0.95, 0.99)),
            f"{s.max_ms:.1f}",
            f"{r.cpu.server_s / r.cpu.wall_s * 100:.0f}",
            f"{r.server_ms:.2f}",
            f"{r.per_request_ms(r.cpu.postgres_s):.2f}",
            f"{r.per_request_ms(r.cpu.redis_s):.2f}",
            f"{r.per_request_ms(r.cpu.client_s):.2f}",
            f"{r.cpu.others_s / r.cpu.wall_s * 100:.0f}",
            f"{r.audit_per_request:.1f}",
            f"{r.response_bytes:,}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _ratios(results: Sequence[Result]) -> list[str]:
    """A against every baseline; A's variants against the first baseline only."""
    lines: list[str] = []
    for links in ("warm", "cold"):
        runs = [r for r in results if r.links == links]
        baselines = [r for r in runs if r.spec.label.startswith("B")]
        for a in (r for r in runs if r.spec.label.startswith("A")):
            for b in baselines if a.spec.label == "A" else baselines[:1]:
                ratio = a.stats.achieved_rps / b.stats.achieved_rps
                verdict = "meets" if ratio >= 0.5 else "**misses**"
                lines.append(
                    f"- {links} links, {a.spec.label} / {b.spec.label}: "
                    f"{a.stats.achieved_rps:,.0f} / {b.stats.achieved_rps:,.0f} = "
                    f"**{ratio:.2f}** ({verdict} the >= 0.5 target)"
                )
    return lines


def _gc_table(results: Sequence[Result]) -> list[str]:
    measured = [r for r in results if r.gc is not None]
    if not measured:
        return []
    lines = [
        "### The cyclic garbage collector in A (instrumented runs, `gc.callbacks`)",
        "",
        "| server | req/s | server CPU ms/req | GC ms/req | GC share of server CPU "
        "| gen0 / gen1 / gen2 collections per s | gen0 / gen1 / gen2 ms/req "
        "| tracked objects (frozen) |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in measured:
        assert r.gc is not None
        gc_ms = r.per_request_ms(sum(r.gc.seconds))
        rates = " / ".join(f"{n / r.cpu.wall_s:,.1f}" for n in r.gc.collections)
        per_gen = " / ".join(f"{r.per_request_ms(t):.2f}" for t in r.gc.seconds)
        lines.append(
            f"| {r.spec.label} | {r.stats.achieved_rps:,.0f} | {r.server_ms:.2f} | {gc_ms:.2f} "
            f"| {gc_ms / r.server_ms * 100:.0f} % | {rates} | {per_gen} "
            f"| {r.gc.tracked:,} ({r.gc.frozen:,}) |"
        )
    return [*lines, ""]


def _shapes_table(results: Sequence[Result]) -> list[str]:
    shaped = [r for r in results if r.series == "shapes"]
    full = [r for r in shaped if r.shape == "full"]
    if len(shaped) < 2 or not full:
        return []
    reference = full[0]
    lines = [
        "### What each part of the query costs A (warm links, one run per shape)",
        "",
        "| query shape | req/s | server CPU ms/req | vs full, ms/req | audit rows/req "
        "| reply bytes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in shaped:
        lines.append(
            f"| {r.shape} | {r.stats.achieved_rps:,.0f} | {r.server_ms:.2f} "
            f"| {r.server_ms - reference.server_ms:+.2f} | {r.audit_per_request:.1f} "
            f"| {r.response_bytes:,} |"
        )
    return [*lines, ""]


def _share_rows(counter: Counter[str], main: int, cpu_ms: float | None) -> list[str]:
    rows = []
    for category, samples in counter.most_common():
        share = samples / main if main else 0.0
        ms = f"{share * cpu_ms:.2f}" if cpu_ms else "-"
        rows.append(f"| {category} | {share * 100:.1f} % | {ms} |")
    return rows


def _profile_tables(bench: Bench) -> list[str]:
    lines: list[str] = []
    for spec, path in bench.profiles:
        profile = read_profile(path)
        main = profile.main_samples
        measured = [
            r
            for r in bench.results
            if r.spec.label == spec.label and r.links == "warm" and r.shape == "full"
        ]
        cpu_ms = measured[0].server_ms if measured else None
        lines += [
            f"### Where {spec.label}'s time goes (warm links, full query)",
            "",
            f"py-spy{' --native' if bench.options.native else ''}, {PROFILE_RATE} Hz, "
            f"{bench.options.profile_s:g} s under the same load: {main:,} busy samples of the "
            f"main (event-loop) thread ({profile.all_samples:,} in all); the first rule "
            "that matches a sample's stack takes it"
            + (f"; ms/request share the {cpu_ms:.2f} ms of server CPU measured" if cpu_ms else "")
            + f". Raw stacks: `{path}`.",
            "",
            "| where | share | ms/request |",
            "|---|---:|---:|",
            *_share_rows(profile.phases, main, cpu_ms),
            "",
        ]
        for title, counter in (
            ("GC samples by the work that triggered the collection", profile.gc_triggers),
            (
                "Other SQL samples by layer, any statement (share of all samples)",
                profile.sql_layers,
            ),
            ("`GraphQL: execute` by innermost Python frame (share of all)", profile.execute_owners),
        ):
            if counter:
                lines += [
                    f"{title}:",
                    "",
                    "| where | share of all busy samples | ms/request |",
                    "|---|---:|---:|",
                    *_share_rows(counter, main, cpu_ms),
                    "",
                ]
    return lines


def report(bench: Bench) -> str:
    options = bench.options
    main_results = [r for r in bench.results if r.series == "main"]
    lines = [
        f"Patient records ({RECORDS} records, {DOCTORS} doctors, `records(first: 50)` with "
        f"doctor and document link): commit {_commit() or '?'}, {os.cpu_count()} CPUs shared "
        f"by the server, PostgreSQL, Redis and this generator; closed loop of "
        f"{options.connections} connections (aiohttp), {options.warmup_s:g} s warm-up + "
        f"{options.duration_s:g} s measured per row; one server at a time, uvicorn with 1 "
        "worker, uvloop and httptools. CPU columns are CPU seconds per answered request "
        '(from /proc); "others" is what processes outside the bench used meanwhile '
        f"(a row is run again, up to {options.attempts} times, while above "
        f"{options.max_others:g} CPUs).",
        "",
        *_results_table(main_results),
        "",
        *_ratios(main_results),
        "",
        "Servers: "
        + "; ".join(
            f"**{spec.label}**: {spec.description}"
            for spec in {r.spec.label: r.spec for r in bench.results}.values()
        )
        + ".",
        "",
        *_gc_table(main_results),
        *_shapes_table(bench.results),
        *_profile_tables(bench),
    ]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


async def run(options: Options) -> Bench:
    url = database_url(options.admin_url, options.database)
    await recreate_database(options.admin_url, options.database)
    try:
        await upgrade_async(url)
        fixture = await seed(url)
        with tempfile.TemporaryDirectory(prefix="medappt-bench-records-") as tmp:
            data_dir = Path(tmp)
            s3 = EmbeddedS3(data_dir / "moto")
            await asyncio.to_thread(s3.start)
            redis = Redis.from_url(options.redis_url)
            try:
                return await _run(
                    options, url, fixture, data_dir=data_dir, s3_url=s3.url, redis=redis
                )
            finally:
                await redis.flushdb()
                await redis.aclose()
                await asyncio.to_thread(s3.stop)
    finally:
        if not options.keep_database:
            await drop_database(options.admin_url, options.database)


async def _run(
    options: Options, url: str, fixture: Fixture, *, data_dir: Path, s3_url: str, redis: Redis
) -> Bench:
    environment = {
        "DATABASE_URL": url,
        "REDIS_URL": options.redis_url,
        "S3_ENDPOINT_URL": s3_url,
        "S3_BUCKET": BUCKET,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "MEDAPPT_ENV": "dev",
        "MEDAPPT_DATA_DIR": str(data_dir),
        # The load comes from one address at rates no client may reach.
        "MEDAPPT_RATE_LIMITS": "off",
    }
    async with s3_client(load_settings(environment)) as s3:
        await ensure_bucket(s3, BUCKET)
    signing = generate_signing_key()
    tokens = TokenService(
        TokenKeys(signing=signing, verification=KeySet([public_part(signing)])),
        "medappt",
        "medappt-api",
    )
    env = {**os.environ, **environment}
    env["MEDAPPT_JWT_PRIVATE_KEY"] = json.dumps(signing.as_dict(private=True))
    for name in ("MEDAPPT_JWT_PUBLIC_KEYS", "MEDAPPT_JWT_ISSUER", "MEDAPPT_JWT_AUDIENCE"):
        env.pop(name, None)
    bench = Bench(options, fixture, url, env, tokens, data_dir, redis)
    product = product_spec()
    baselines = [baseline_spec(variant) for variant in options.baselines]
    for spec in [product, *baselines, *(product_spec(v) for v in options.products)]:
        print(f"{spec.label}: {spec.description}", file=sys.stderr)
        await bench.measure(spec)
    if options.cold:
        for spec in (product, baselines[0]):
            await bench.measure(spec, cold=True)
    for shape in options.shapes:
        await bench.measure(
            product, shape=shape, duration_s=options.shape_duration_s, series="shapes"
        )
    if options.profile_dir is not None:
        for spec in (product, baselines[0]):
            await bench.profile(spec, options.profile_dir)
    return bench


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="creates the database")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="dropped and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed before each run")
    parser.add_argument("--connections", type=int, default=16, help="closed-loop clients")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument(
        "--baselines",
        default="full,verify,none,full+audit",
        help="of full, verify, none, full+audit; the first is also run with cold links "
        "and profiled",
    )
    parser.add_argument(
        "--products",
        default="asis,default,freeze+t10000",
        help="instrumented product variants besides `medappt serve`: asis, default, freeze, "
        "tN, freeze+tN (empty for none)",
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-link runs")
    parser.add_argument(
        "--shapes",
        default=",".join(name for name in SHAPES if name != "full"),
        help=f"lighter queries run on A, of: {', '.join(SHAPES)} (empty for none)",
    )
    parser.add_argument("--shape-duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="py-spy A and the first B",
    )
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument(
        "--no-native", action="store_true", help="py-spy without --native (no C frames, no GC)"
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=900.0,
        help="before each run, wait up to this many seconds for other processes to go idle",
    )
    parser.add_argument(
        "--max-others",
        type=float,
        default=0.15,
        help="CPUs other processes may use during a measured part before it is run again",
    )
    parser.add_argument("--attempts", type=int, default=3, help="runs at most, per row")
    parser.add_argument("--serve-product", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_product is not None:
        serve_product(args.serve_product)
        sys.exit(0)
    baselines = _names(args.baselines)
    unknown = set(baselines) - set(BASELINE_DESCRIPTIONS)
    if unknown or not baselines:
        parser.error(f"unknown or no baselines: {', '.join(sorted(unknown))}")
    products = _names(args.products)
    if any(PRODUCT_VARIANT.fullmatch(name) is None for name in products):
        parser.error(f"unknown product variants in {args.products!r}")
    shapes = ("full", *_names(args.shapes)) if _names(args.shapes) else ()
    if set(shapes) - set(SHAPES):
        parser.error(f"unknown shapes in {args.shapes!r}")
    return Options(
        admin_url=args.admin_url,
        database=args.database,
        redis_url=args.redis_url,
        connections=args.connections,
        warmup_s=args.warmup,
        duration_s=args.duration,
        timeout_s=args.timeout,
        baselines=baselines,
        products=products,
        cold=not args.no_cold,
        shapes=shapes,
        shape_duration_s=args.shape_duration,
        profile_dir=args.profile,
        profile_s=args.profile_seconds,
        native=not args.no_native,
        keep_database=args.keep_database,
        quiet_wait_s=args.quiet_wait,
        max_others=args.max_others,
        attempts=args.attempts,
    )


async def _cancellable(options: Options) -> Bench:
    """:func:`run`, cancelled by SIGTERM or SIGINT (ignored in background jobs otherwise),
    so servers are stopped and the database dropped however the bench is ended."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    return await run(options)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    try:
        bench = uvloop.run(_cancellable(options))
    except asyncio.CancelledError:
        sys.exit("bench.records: interrupted (servers stopped, database dropped)")
    print(report(bench))


if __name__ == "__main__":
    main()
