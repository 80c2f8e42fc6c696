"""Prometheus metrics of the API and the worker (contract "Operations").

Under ``medappt serve --workers N`` every process writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, chosen when
the library is first imported, so ``serve`` sets the variable before anything
imports this module) and ``/metrics`` adds them up: whichever process answers a
scrape, the counts are those of all of them.
"""

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

GRAPHQL_REQUESTS = Counter(
    "medappt_graphql_requests",
    "GraphQL requests by operation name and outcome (OK, or the first error's code).",
    ["operation", "code"],
)
GRAPHQL_DURATION = Histogram(
    "medappt_graphql_request_duration_seconds",
    "Time from a GraphQL request's arrival to the end of its response.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
# A GraphQL request's two series, by (operation, code), both of bounded sets: labels()
# formats, checks and locks at each call, some 3 µs a request for the two.
_GRAPHQL_SERIES: dict[tuple[str, str], tuple[Counter, Histogram]] = {}


def graphql_series(operation: str, code: str) -> tuple[Counter, Histogram]:
    """``GRAPHQL_REQUESTS`` and ``GRAPHQL_DURATION`` with these labels."""
    series = _GRAPHQL_SERIES.get((operation, code))
    if series is None:
        series = _GRAPHQL_SERIES[operation, code] = (
            GRAPHQL_REQUESTS.labels(operation=operation, code=code),
            GRAPHQL_DURATION.labels(operation=operation),
        )
    return series


DB_POOL_CONNECTIONS = Gauge(
    "medappt_db_pool_connections",
    "Database connections of the processes alive: in_use, idle, and capacity (size + overflow).",
    ["pool", "state"],
    multiprocess_mode="livesum",
)
SLOT_CACHE_REQUESTS = Counter(
    "medappt_slot_cache_requests",
    "Doctor-days looked up in the slot cache: hit, miss, or unavailable (Redis down).",
    ["result"],
)
RATE_LIMITED = Counter(
    "medappt_rate_limited",
    "Requests refused with RATE_LIMITED, by the limit that refused them.",
    ["limit"],
)
SERVER_UP = Gauge(
    "medappt_server_up",
    "1 while the server answers this process's probes, 0 while it does not.",
    ["server"],
    multiprocess_mode="livemin",
)
NOTIFICATIONS = Counter(
    "medappt_notifications",
    "Send attempts of the worker by channel and outcome (SENT, FAILED, DEAD, SKIPPED, RETRY).",
    ["channel", "status"],
)
JOBS_QUEUED = Gauge(
    "medappt_jobs_queued",
    "Jobs waiting in the arq queue, as the worker last counted them.",
    multiprocess_mode="livemax",
)

OTHER_OPERATION = "other"
MAX_OPERATION_NAMES = 100
MAX_OPERATION_NAME_LENGTH = 64


class OperationLabels:
    """Operation names as label values, at most ``limit`` of them per process: clients
    choose the names, and each new one would be a new time series. Past the limit,
    and for absurdly long names, the label is ``other``."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str) -> str:
        if name in self._seen:
            return name
        if len(name) > MAX_OPERATION_NAME_LENGTH:
            return OTHER_OPERATION
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER_OPERATION
            self._seen.add(name)
        return name


operation_labels = OperationLabels()


def multiprocess_mode() -> bool:
    """Whether samples go to files: decided when prometheus-client was imported."""
    return values.ValueClass is not values.MutexValue


def exposition() -> tuple[bytes, str]:
    """The text of a scrape, with its content type; this process's pool gauges are
    brought up to date first."""
    for refresh in tuple(_POOL_GAUGES):
        refresh()
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_ended() -> None:
    """Drop this process's gauges (pool connections, server up) from the sums."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


# A pool's gauges are set at most this long after a connection comes or goes, once for
# all the changes meanwhile: setting them at each checkout and checkin (four multiprocess
# writes a request) cost a records request about 1 % of its CPU.
POOL_GAUGE_DELAY_SECONDS = 0.05
# For each pool observed, what brings its gauges up to date now: a scrape does, first.
_POOL_GAUGES: set[Callable[[], None]] = set()


@contextmanager
def observed_pool(engine: AsyncEngine, name: str) -> Iterator[None]:
    """Keep ``medappt_db_pool_connections`` current as connections come and go, while
    inside."""
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    in_use = DB_POOL_CONNECTIONS.labels(pool=name, state="in_use")
    idle = DB_POOL_CONNECTIONS.labels(pool=name, state="idle")
    DB_POOL_CONNECTIONS.labels(pool=name, state="capacity").set(pool.size() + pool._max_overflow)
    pending: list[asyncio.TimerHandle] = []

    def update() -> None:
        # Now, for a scrape: the update still due would only repeat this one.
        for handle in pending:
            handle.cancel()
        pending.clear()
        in_use.set(pool.checkedout())
        idle.set(pool.checkedin())

    def soon(*_: object) -> None:
        if pending:
            return
        # Later, not now: the pool counts a connection as returned only after its
        # checkin event.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # returned by the garbage collector, outside the loop
            update()
            return
        pending.append(loop.call_later(POOL_GAUGE_DELAY_SECONDS, update))

    pool_events = ("checkout", "checkin", "close", "invalidate")
    for pool_event in pool_events:
        event.listen(engine.sync_engine, pool_event, soon)
    update()
    _POOL_GAUGES.add(update)
    try:
        yield
    finally:
        _POOL_GAUGES.discard(update)
        for pool_event in pool_events:
            event.remove(engine.sync_engine, pool_event, soon)
        for handle in pending:
            handle.cancel()
