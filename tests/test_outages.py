"""PostgreSQL or Redis stop answering (SIGSTOP to the server and every process it forked,
the way a hung or partitioned server behaves) during a stream of requests: quick
SERVICE_UNAVAILABLE, /ready 503, nothing held past the deadline, and the same API
process recovers when the server answers again. Dedicated servers, so that pausing
them leaves the rest of the test session alone."""

import asyncio
import contextlib
import dataclasses
import gc
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.enums import Role
from db.migrate import upgrade_async
from db.models import OutboxMessage
from db.request_sessions import RequestSessions
from devtools.embedded.postgres import EmbeddedPostgres
from devtools.embedded.process import free_port
from devtools.embedded.redis import EmbeddedRedis
from services.outages import is_outage
from services.settings import Settings
from tests.support.api import error_codes, serving, without_cost
from tests.support.backends import HEARD, end_connection
from tests.support.processes import running, until_answers, until_logged
from tests.support.scheduling import make_monday_world, signed_in
from tests.support.servers import recreate_database, with_database
from tests.support.worker import until

PAUSE_SECONDS = 10.0  # the outage: ten seconds of a stream of requests
DEADLINE_SECONDS = 3.0
# The contract's "quickly": the issue asks for SERVICE_UNAVAILABLE within a second once
# the outage is known. Refusals take milliseconds; the bound leaves a busy machine room.
QUICK_SECONDS = 1.0

CLINICS = "query Clinics { clinics { id } }"
ME = "query Me { me { id } }"
SLOTS = "query Slots($doctorId: ID!, $date: Date!) { availableSlots(doctorId: $doctorId, date: $date) { startsAt available } }"


@dataclass(frozen=True)
class OwnServers:
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    settings: Settings  # the session's, on these servers, with a short deadline
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
def own_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:  # fmt: skip
    root = tmp_path_factory.mktemp("outage-servers")
    postgres, redis = (
        EmbeddedPostgres(root / "postgres", False),
        EmbeddedRedis(root / "redis", False),
    )
    postgres.start()
    try:
        redis.start()
        try:
            yield postgres, redis
        finally:
            redis.stop()
    finally:
        postgres.stop()


@pytest.fixture(scope="module")
async def own(
    own_processes: tuple[EmbeddedPostgres, EmbeddedRedis], settings: Settings
) -> AsyncIterator[OwnServers]:
    postgres, redis = own_processes
    database_url = with_database(postgres.url, "medappt_outages")
    await recreate_database(postgres.url, "medappt_outages")
    await upgrade_async(database_url)
    engine = create_engine(database_url, pool_size=2)
    yield OwnServers(
        postgres,
        redis,
        dataclasses.replace(
            settings,
            database_url=database_url,
            redis_url=redis.url,
            request_timeout_s=DEADLINE_SECONDS,
        ),
        session_factory(engine),
    )
    await engine.dispose()


def _until_stopped(processes: list[psutil.Process]) -> None:
    deadline = time.monotonic() + 10
    while any(_running(process) for process in processes):
        assert time.monotonic() < deadline, "a process did not stop"
        time.sleep(0.005)  # polling a deadline: the kernel does not tell us


def _running(process: psutil.Process) -> bool:
    try:
        stopped: bool = process.status() == psutil.STATUS_STOPPED
        return not stopped
    except psutil.NoSuchProcess:
        return False


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """The server and every process it forked stop, their sockets open and silent.
    (PostgreSQL's backends each lead a session of their own: a process group is not
    enough.) The server first, so that it forks no new backend meanwhile."""
    server = psutil.Process(pid)
    server.send_signal(signal.SIGSTOP)
    # A signal is delivered after kill() returns: until the server has stopped it may
    # still fork a backend, which a list of children taken meanwhile would miss (that
    # backend then answered the health probe mid-outage). Stopped first, then listed,
    # until every child is stopped.
    _until_stopped([server])
    children: list[psutil.Process] = []
    while unstopped := [c for c in server.children(recursive=True) if c not in children]:
        for child in unstopped:
            child.send_signal(signal.SIGSTOP)
        _until_stopped(unstopped)
        children += unstopped
    try:
        yield
    finally:
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(signal.SIGCONT)
        os.kill(pid, signal.SIGCONT)


@dataclass(frozen=True)
class Answer:
    seconds: float
    status: int
    codes: list[str]


async def ask(
    http: httpx.AsyncClient, query: str, variables: dict[str, str] | None = None,
    token: str | None = None,
) -> Answer:  # fmt: skip
    loop = asyncio.get_running_loop()
    began = loop.time()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body = without_cost(response.json())
    return Answer(loop.time() - began, response.status_code, error_codes(body))


@contextlib.contextmanager
def collecting_only_what_is_new() -> Iterator[None]:
    """The collector passes over objects made in the block alone, as over the API
    process's after startup (medappt.asgi.tune_garbage_collector). The client and the
    API share this process, whose heap the whole suite has grown: a full pass over it
    took 0.5 to 0.75 s on a quiet machine, twice that on a loaded one, and a refusal it
    caught came back later than QUICK_SECONDS."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def stream(http: httpx.AsyncClient, query: str, token: str | None = None) -> list[Answer]:
    """Requests one after another for PAUSE_SECONDS."""
    loop = asyncio.get_running_loop()
    until = loop.time() + PAUSE_SECONDS
    answers = []
    while loop.time() < until:
        answers.append(await ask(http, query, token=token))
    return answers


async def until_ready(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while (await http.get("/ready")).status_code != 200:  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.05)


def assert_quick_once_known(answers: list[Answer]) -> None:
    """Nothing past the deadline; once one refusal came quickly (the outage is known),
    every later one did, and they were most of the stream."""
    assert all(answer.codes == ["SERVICE_UNAVAILABLE"] for answer in answers), answers
    assert max(answer.seconds for answer in answers) < DEADLINE_SECONDS + QUICK_SECONDS
    first_quick = next(i for i, answer in enumerate(answers) if answer.seconds < QUICK_SECONDS)
    assert all(answer.seconds < QUICK_SECONDS for answer in answers[first_quick:]), answers
    assert len(answers) - first_quick >= 10


async def test_while_postgresql_does_not_answer(own: OwnServers) -> None:
    async with serving(own.settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        before = await ask(http, CLINICS)
        # Frozen first: the full pass before freezing must not eat into the outage.
        with collecting_only_what_is_new(), paused(own.postgres.pid):
            answers = await stream(http, CLINICS)
            ready = await http.get("/ready")
        await until_ready(http)
        after = await ask(http, CLINICS)

    assert (before.status, before.codes) == (200, [])
    assert_quick_once_known(answers)
    # A request caught mid-statement gets the deadline's HTTP 503; later ones, a 200 refusal.
    assert {answer.status for answer in answers} <= {200, 503}
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "not ready", "database": "unreachable", "redis": "ok"},
    )
    assert (after.status, after.codes) == (200, [])


async def test_while_redis_does_not_answer(own: OwnServers) -> None:
    patient = await signed_in(own.sessions, own.settings, Role.PATIENT)
    _, doctor, monday = await make_monday_world(own.sessions)
    day = {"doctorId": str(doctor.id), "date": monday.isoformat()}
    async with serving(own.settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        before = await ask(http, ME, token=patient.token)
        with collecting_only_what_is_new(), paused(own.redis.pid):
            answers = await stream(http, ME, patient.token)
            # Public reads need no Redis: rate limits let them through, slots are computed.
            slots = await ask(http, SLOTS, day)
            clinics = await ask(http, CLINICS)
            ready = await http.get("/ready")
        await until_ready(http)
        after = await ask(http, ME, token=patient.token)

    assert (before.status, before.codes) == (200, [])
    assert_quick_once_known(answers)
    assert [(answer.status, answer.codes) for answer in (slots, clinics)] == [(200, [])] * 2
    assert slots.seconds < QUICK_SECONDS
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "not ready", "database": "ok", "redis": "unreachable"},
    )
    assert (after.status, after.codes) == (200, [])


async def test_a_worker_started_before_postgresql_starts_once_it_is(
    own: OwnServers, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    log = tmp_path / "worker.log"
    env = {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres",
        "REDIS_URL": own.redis.url,
        "MEDAPPT_STARTUP_WAIT_S": "120",
    }
    metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    late = EmbeddedPostgres(tmp_path / "late-postgres", False, port=port)
    async with running(["worker", "--metrics-port", str(metrics_port)], env, log) as worker:
        await until_logged("waiting for PostgreSQL", log)
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(metrics)  # not started: still waiting
        await asyncio.to_thread(late.start)
        try:
            await until_answers(metrics, worker, log)
            async with httpx.AsyncClient() as http:
                scrape = (await http.get(metrics)).text
        finally:
            await asyncio.to_thread(late.stop)

    assert "medappt_jobs_queued" in scrape
    assert 'medappt_notifications_total{channel="SMS",status="SENT"} 0.0' in scrape


async def _relayed(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Adds an outbox row and waits until a relay publishes it."""
    async with sessions.begin() as session:
        message = OutboxMessage(
            topic="appointment_booked", payload={"appointment_id": str(uuid.uuid4())}
        )
        session.add(message)
    try:
        await until(lambda: _published(sessions, message.id), within=30)
    except TimeoutError:
        return False
    return True


async def _published(sessions: async_sessionmaker[AsyncSession], message_id: int) -> bool:
    async with sessions() as session:
        row = await session.get(OutboxMessage, message_id, populate_existing=True)
        return row is not None and row.published_at is not None


async def test_a_worker_goes_on_after_redis_restarts(own: OwnServers, tmp_path: Path) -> None:
    """A restart, not a pause: the worker's connections are reset, and arq stops polling."""
    redis = EmbeddedRedis(tmp_path / "redis", False)
    redis.start()
    log, metrics_port = tmp_path / "worker.log", free_port()
    assert own.settings.database_url is not None
    env = {"DATABASE_URL": own.settings.database_url, "REDIS_URL": redis.url}
    try:
        async with running(["worker", "--metrics-port", str(metrics_port)], env, log) as worker:
            await until_answers(f"http://127.0.0.1:{metrics_port}/metrics", worker, log)
            relayed_before = await _relayed(own.sessions)
            port = redis.port
            await asyncio.to_thread(redis.stop)
            await until_logged("worker stopped by an outage", log)
            redis = EmbeddedRedis(tmp_path / "redis-again", False, port=port)
            await asyncio.to_thread(redis.start)
            await until_logged("worker restarting", log)
            relayed_after = await _relayed(own.sessions)
            still_running = worker.poll() is None
    finally:
        await asyncio.to_thread(redis.stop)

    assert (relayed_before, relayed_after, still_running) == (True, True, True)


async def test_the_api_goes_on_after_postgresql_restarts(
    settings: Settings, tmp_path: Path
) -> None:
    """A restart, not a pause: the server closes every pooled connection. There is no
    pre-ping; the pool sees at checkout that a connection was closed and opens another,
    so the first request after the restart is answered like the others."""
    postgres = EmbeddedPostgres(tmp_path / "postgres", False)
    postgres.start()
    try:
        database_url = with_database(postgres.url, "medappt_restart")
        await recreate_database(postgres.url, "medappt_restart")
        await upgrade_async(database_url)
        own = dataclasses.replace(settings, database_url=database_url)
        async with serving(own) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            before = [await ask(http, CLINICS) for _ in range(3)]
            port = postgres.port
            await asyncio.to_thread(postgres.stop)
            postgres = EmbeddedPostgres(tmp_path / "postgres", False, port=port)
            await asyncio.to_thread(postgres.start)
            await until_ready(http)
            after = [await ask(http, CLINICS) for _ in range(3)]
    finally:
        await asyncio.to_thread(postgres.stop)

    assert [(answer.status, answer.codes) for answer in before + after] == [(200, [])] * 6


@pytest.mark.parametrize("heard", HEARD)
async def test_a_read_that_meets_a_dead_connection_is_sent_again(
    engine: AsyncEngine, heard: str
) -> None:
    """The race the checkout cannot see: the connection dies while the request holds it.
    A read alone (no transaction) loses nothing, so it is sent once more on a new one."""
    sessions = RequestSessions(engine)
    try:
        async with sessions() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
            await end_connection(engine, await _driver(session), heard=heard)
            second = await session.scalar(text("SELECT pg_backend_pid()"))
            # Set up as the one it replaces: reads alone, no transaction left open.
            in_transaction = (await _driver(session)).is_in_transaction()
    finally:
        await sessions.close()

    assert (first is not None, second is not None, second != first, in_transaction) == (
        True,
        True,
        True,
        False,
    )


@pytest.mark.parametrize("heard", HEARD)
async def test_a_statement_alone_that_meets_a_dead_connection_is_not_sent_again(
    engine: AsyncEngine, heard: str
) -> None:
    """A statement of ``atomic_statements()`` may change rows and may have committed
    before the connection died: it is never sent again, the caller hears of it."""
    sessions = RequestSessions(engine)
    try:
        async with sessions.atomic_statements() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
            await end_connection(engine, await _driver(session), heard=heard)
            with pytest.raises(DBAPIError) as raised:
                await session.scalar(text("SELECT pg_backend_pid()"))
    finally:
        await sessions.close()

    assert (first is not None, raised.value.connection_invalidated) == (True, True)


async def test_a_transaction_after_the_connection_died_gets_a_new_one_or_is_unavailable(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Died between two statements of a request: a transaction begun next starts on a
    new connection when asyncpg knows; in the turn of the event loop where it has heard
    only the server's last message, the transaction fails before anything is sent, as an
    outage (SERVICE_UNAVAILABLE), and the request's next statement gets a new one."""
    outcomes = []
    for heard in HEARD:
        marker = str(uuid.uuid4())
        request = RequestSessions(engine)
        try:
            async with request() as session:
                first = await session.scalar(text("SELECT pg_backend_pid()"))
                await end_connection(engine, await _driver(session), heard=heard)
            try:
                async with request.begin() as session:
                    session.add(OutboxMessage(topic="test", payload={"marker": marker}))
                outcome = "committed"
            except DBAPIError as error:
                outcome = f"outage: {is_outage(error)}"
            async with request() as session:
                after = await session.scalar(text("SELECT pg_backend_pid()"))
        finally:
            await request.close()
        async with sessions() as session:
            kept = await session.scalar(
                select(func.count()).where(OutboxMessage.payload["marker"].astext == marker)
            )
            await session.execute(
                delete(OutboxMessage).where(OutboxMessage.payload["marker"].astext == marker)
            )
            await session.commit()
        outcomes.append((heard, outcome, kept, after != first))

    assert outcomes == [
        ("everything", "committed", 1, True),
        ("the last message", "outage: True", 0, True),
    ]


async def _driver(session: AsyncSession) -> asyncpg.Connection:
    raw = await (await session.connection()).get_raw_connection()
    return cast(asyncpg.Connection, raw.driver_connection)
