"""A persisted public query served from the HTTP cache layer, on one API process.

Run with ``python -m bench.public_cache --embedded DIR``: starts PostgreSQL and Redis
under DIR (kept between runs), migrates and seeds a small world the first time
(``seed-scale`` with 20 doctors), starts ``medappt serve`` (one process) and registers
one document by its hash (Apollo's automatic persisted queries):

    query DaySlots($doctorId: ID!, $date: Date!) {
      availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available clinic { name } }
    }

Then ``GET /graphql?extensions={persistedQuery}&variables=...`` without the document,
as a CDN-fronted browser sends it, back to back over ``--connections`` keep-alive
connections for ``--duration`` seconds, in three rows: answered from the shared cache
(200, no SQL), revalidated (``If-None-Match``: 304), and the 200 again with every client
budget charged in Redis (the other rows run with ``MEDAPPT_RATE_LIMITS=off``, as the other
benchmarks do). The load generator is a minimal HTTP/1.1 client on raw sockets, so that
it costs less than the server it measures; its own CPU share is printed with the API's.

Prints a Markdown table: requests per second, latency percentiles, the API's CPU per
request and what that makes on one whole core (one process runs one event loop: on a
machine whose other cores hold Redis and the clients, that is its throughput), and the
CPU shares of the API and of the generator during the run.
"""

import argparse
import asyncio
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
import uvloop

from bench.api_server import ApiServer, running_api
from bench.cpu import process_seconds
from db.migrate import upgrade_async
from devtools.embedded import EmbeddedStack

QUERY = """query DaySlots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available clinic { name } }
}"""
SHA256 = hashlib.sha256(QUERY.encode()).hexdigest()
EXTENSIONS = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": SHA256}})
# Room for every request of a run from one address: charged, never refused.
CHARGED_LIMITS = "ip=1000000000/60s"


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str
    redis_url: str
    connections: int
    warmup_s: float
    duration_s: float
    py_spy: Path | None  # raw stacks of the API during the first row


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    requests: int
    seconds: float
    latencies_ms: list[float]  # sorted
    statuses: Counter[int]
    api_cpu_s: float
    generator_cpu_s: float

    def percentile(self, fraction: float) -> float:
        rank = max(1, math.ceil(fraction * len(self.latencies_ms)))
        return self.latencies_ms[rank - 1]

    def markdown(self) -> str:
        rate = self.requests / self.seconds
        statuses = ", ".join(f"{status} x{n}" for status, n in sorted(self.statuses.items()))
        return (
            f"| {self.label} | {rate:,.0f}/s | {self.percentile(0.5):.2f} | "
            f"{self.percentile(0.99):.2f} | {self.api_cpu_s * 1e6 / self.requests:.0f} | "
            f"{self.requests / self.api_cpu_s:,.0f}/s | "
            f"{self.api_cpu_s / self.seconds:.0%} | {self.generator_cpu_s / self.seconds:.0%} | "
            f"{statuses} |"
        )


async def _doctor_day(database_url: str) -> tuple[str, str]:
    """An active doctor and a coming date on which their templates give slots."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        row = await connection.fetchrow(
            "SELECT t.doctor_id, t.day_of_week FROM schedule_templates t"
            " JOIN doctors d ON d.id = t.doctor_id WHERE d.active"
            " ORDER BY t.doctor_id, t.day_of_week LIMIT 1"
        )
    finally:
        await connection.close()
    if row is None:
        raise SystemExit("no schedule templates: seed the database first")
    start = datetime.now(UTC).date() + timedelta(days=2)
    day = start + timedelta(days=(row["day_of_week"] - start.isoweekday()) % 7)
    return str(row["doctor_id"]), day.isoformat()


def _request_bytes(variables: dict[str, str], etag: str | None) -> bytes:
    query = urlencode({"extensions": EXTENSIONS, "variables": json.dumps(variables)})
    lines = [f"GET /graphql?{query} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json"]
    if etag is not None:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _one_connection(  # noqa: PLR0917
    port: int, request: bytes, until: float, measure_from: float, latencies: list[float],
    statuses: Counter[int],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (sent := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if sent >= measure_from:
                latencies.append((time.perf_counter() - sent) * 1e3)
                statuses[status] += 1
    finally:
        writer.close()


def _py_spy(api: ApiServer, options: Options) -> "subprocess.Popen[bytes] | None":
    if options.py_spy is None:
        return None
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(api.pid)]
    command += ["--duration", str(int(options.duration_s)), "--rate", "200", "--nonblocking"]
    command += ["--format", "raw", "--output", str(options.py_spy)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own command


async def _row(
    label: str, api: ApiServer, request: bytes, options: Options, *, profile: bool = False
) -> Row:
    port = int(api.url.rsplit(":", 1)[1])
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    measure_from = time.perf_counter() + options.warmup_s
    until = measure_from + options.duration_s
    gathering = asyncio.gather(
        *(
            _one_connection(port, request, until, measure_from, latencies, statuses)
            for _ in range(options.connections)
        )
    )
    await asyncio.sleep(options.warmup_s)
    recording = _py_spy(api, options) if profile else None
    # CPU from the start of the measured window to the last reply.
    api_before, own_before = process_seconds(api.pid), process_seconds(os.getpid())
    began = time.perf_counter()
    await gathering
    if recording is not None:
        recording.wait()
    return Row(
        label,
        len(latencies),
        time.perf_counter() - began,
        sorted(latencies),
        statuses,
        process_seconds(api.pid) - api_before,
        process_seconds(os.getpid()) - own_before,
    )


async def _register(api: ApiServer, variables: dict[str, str]) -> str:
    """Stores the document by its hash and fills the cache; the response's ETag."""
    async with httpx.AsyncClient(base_url=api.url) as http:
        body = {"query": QUERY, "variables": variables, "extensions": json.loads(EXTENSIONS)}
        registered = (await http.post("/graphql", json=body)).json()
        assert "errors" not in registered, registered
        assert registered["data"]["availableSlots"], registered
        params = {"extensions": EXTENSIONS, "variables": json.dumps(variables)}
        cached = await http.get("/graphql", params=params)
        assert cached.headers["cache-control"].startswith("public"), cached.headers
        return cached.headers["etag"]


async def run(options: Options) -> list[Row]:
    await _prepare(options.database_url)
    doctor_id, day = await _doctor_day(options.database_url)
    variables = {"doctorId": doctor_id, "date": day}
    rows = []
    for limits, label in (("off", "{} (budgets off)"), (CHARGED_LIMITS, "{} (budgets charged)")):
        environment = {"MEDAPPT_RATE_LIMITS": limits}
        with running_api(
            options.database_url, options.redis_url, extra_environment=environment
        ) as api:
            etag = await _register(api, variables)
            rows.append(
                await _row(
                    label.format("200 from the cache"),
                    api,
                    _request_bytes(variables, None),
                    options,
                    profile=limits == "off",
                )
            )
            if limits == "off":
                rows.append(
                    await _row(
                        label.format("304, If-None-Match"),
                        api,
                        _request_bytes(variables, etag),
                        options,
                    )
                )
    return rows


async def _prepare(database_url: str) -> None:
    await upgrade_async(database_url)
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        doctors = await connection.fetchval("SELECT count(*) FROM doctors")
    finally:
        await connection.close()
    if doctors == 0:
        from devtools.scale import seed_scale  # noqa: PLC0415 - only when seeding

        print(await seed_scale(database_url, doctors=20, patients=50, appointments=50, clinics=2))


def _parse(argv: Sequence[str] | None) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--embedded", type=Path, default=None, metavar="DIR")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--connections", type=int, default=16, help="keep-alive, back to back")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per row")
    parser.add_argument("--py-spy", type=Path, default=None, metavar="FILE", help="raw stacks")
    args = parser.parse_args(argv)
    if args.embedded is None and (args.database_url is None or args.redis_url is None):
        parser.error("give --embedded DIR, or both --database-url and --redis-url")
    options = Options(
        database_url=args.database_url or "",
        redis_url=args.redis_url or "",
        connections=args.connections,
        warmup_s=args.warmup,
        duration_s=args.duration,
        py_spy=args.py_spy,
    )
    return options, args.embedded


def main(argv: Sequence[str] | None = None) -> None:
    options, embedded = _parse(argv)
    with ExitStack() as stack:
        if embedded is not None:
            servers = stack.enter_context(
                EmbeddedStack(embedded, postgres=True, redis=True, s3=False, durable=True)
            )
            assert servers.database_url is not None
            assert servers.redis_url is not None
            options = replace(
                options, database_url=servers.database_url, redis_url=servers.redis_url
            )
        rows = uvloop.run(run(options))
    print(f"{options.connections} connections, {options.duration_s:g} s measured per row")
    print(
        "| row | req/s | p50 ms | p99 ms | API CPU µs/req | req/s per API core"
        " | API CPU | generator CPU | statuses |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(row.markdown())


if __name__ == "__main__":
    main()
