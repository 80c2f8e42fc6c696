"""Throughput with 1 and with 2 API processes (``serve --workers``), closed loops of booking
and of cache hits, and the resident memory of the API processes."""

import dataclasses
import sys
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]

from bench.api_server import ApiServer
from bench.load import client_session
from bench.scheduling import scenarios
from bench.scheduling.bookings import Bookings
from bench.scheduling.harness import Harness
from bench.scheduling.options import Load
from bench.scheduling.reports import Report


@dataclass(frozen=True, slots=True)
class ProcessRow:
    processes: int
    scenario: str  # "booking" or "cache hit"
    workers: int  # closed-loop concurrency
    ok_per_s: float
    p99_ms: float
    rss_mb: float  # the largest API process's, after the row
    # Cache hits only: the open loop at HIT_RATE (the SLA's load), p99 and OK replies a second.
    open_p99_ms: float | None = None
    open_rps: float | None = None


# The slot-cache SLA's load: held by `serve` as deployed (as many processes as cores)?
HIT_RATE = 500.0


def rss_mb(pid: int) -> float:
    """Resident memory of the API: of its largest process (uvicorn's workers with N > 1)."""
    process = psutil.Process(pid)
    processes = [process, *process.children(recursive=True)]
    largest: int = max(p.memory_info().rss for p in processes)
    return largest / 2**20


async def measure(
    harness: Harness, server: ApiServer, processes: int, workers: int
) -> list[ProcessRow]:
    """Booking and cache-hit closed loops on ``server`` (started with ``processes``)."""
    options = dataclasses.replace(
        harness.options,
        hit_loads=(Load(workers=workers // 2), Load(rate=HIT_RATE)),
        book_loads=(Load(workers=workers),),
        attempts=1,
    )
    async with client_session(options.connections, options.timeout_s) as http:
        on_server = Harness(
            options, server, http=http, redis=harness.redis, fixture=harness.fixture,
            stats=harness.stats,
        )  # fmt: skip
        bookings = Bookings(on_server)
        rows: list[ProcessRow] = []
        try:
            for name, report in (
                ("cache hit", await scenarios.slots_hit(on_server)),
                ("booking", await scenarios.book(on_server, bookings)),
            ):
                rows.append(_row(processes, name, report, server.pid))
        finally:
            await on_server.settle()
            await bookings.cancel_all()
    for row in rows:
        print(
            f"  {processes} process(es), {row.scenario}: {row.ok_per_s:,.0f} ok/s, "
            f"RSS {row.rss_mb:.0f} MB",
            file=sys.stderr,
        )
    return rows


def _row(processes: int, scenario: str, report: Report, pid: int) -> ProcessRow:
    stats = report.rows[0].stats
    workers = int(stats.load.split()[0])
    row = ProcessRow(
        processes, scenario, workers, stats.ok_rps, stats.percentile(0.99),
        rss_mb(pid),
    )  # fmt: skip
    if len(report.rows) < 2:
        return row
    held = report.rows[1].stats
    return dataclasses.replace(row, open_p99_ms=held.percentile(0.99), open_rps=held.ok_rps)
