"""The bench's runs: one server under a closed loop, measured (a :class:`Result`, one row of
the report) or recorded by py-spy."""

import asyncio
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from redis.asyncio import Redis

from bench.load import OK, Request, RunStats, client_session, closed_loop
from bench.records.cpu_and_gc import CpuUse, GcUse, Probe, measured_window, wait_for_quiet
from bench.records.database import Fixture, audit_rows
from bench.records.options import Options
from bench.records.profile_categories import PROFILE_RATE
from bench.records.query import QUERY, SHAPES, check_answer, classify, graphql_request, post
from bench.records.servers import ServerSpec, running
from db.enums import Role
from db.ids import uuid7
from services.auth.tokens import TokenService


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
                measured_window(server, probe, spec.instrumented, warmup_s, duration_s)
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
