"""Statements sent straight to asyncpg on a request's connection (db/direct_statements.py,
RequestSessions.rows and execute_atomic): the same rows as a session, on the same one
connection, without a greenlet once it is taken, and safe when that connection dies."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import asyncpg
import pytest
from sqlalchemy import Insert, Uuid, bindparam, delete, func, insert, literal, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from db.direct_statements import compiled
from db.enums import RecordStatus, RecordType
from db.models import MedicalRecord, OutboxMessage
from db.request_sessions import RequestSessions
from domain.patients import _PROFILES
from domain.records import records_statement
from tests.support.backends import (
    HEARD,
    end_connection,
    terminate_backend,
    until_waiting_on_a_lock,
)
from tests.support.factories import add_clinic, add_doctor, add_patient
from tests.support.statements import counting_statements

PID = select(func.pg_backend_pid())
T = TypeVar("T")


async def _patient_with_two_records(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[uuid.UUID, uuid.UUID]:
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        doctor = await add_doctor(session, clinics=(clinic,))
        patient = await add_patient(session)
        for n, kind in enumerate((RecordType.LAB_REPORT, RecordType.IMAGING)):
            session.add(MedicalRecord(
                patient_id=patient.id, doctor_id=doctor.id if n == 0 else None,
                record_type=kind, title=f"Record {n}", file_name=f"r{n}.pdf",
                content_type="application/pdf", size_bytes=100 + n, s3_key=f"k/{n}",
                status=RecordStatus.AVAILABLE,
                uploaded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n),
            ))  # fmt: skip
        return patient.id, doctor.id


async def test_a_direct_read_gives_the_rows_a_session_gives(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Bind processors (an enum, an array), a literal the statement carries, and result
    processors (the record type back to its enum) applied as SQLAlchemy applies them."""
    patient_id, doctor_id = await _patient_with_two_records(sessions)
    reads: list[tuple[Any, dict[str, Any]]] = [
        (records_statement(False, False), {"patient_ids": [patient_id], "rows": 10}),
        (
            records_statement(True, True),
            {
                "patient_ids": [patient_id],
                "rows": 10,
                "record_type": RecordType.LAB_REPORT,
                "after_at": datetime(2027, 1, 1, tzinfo=UTC),
                "after_id": uuid.uuid4(),
            },
        ),
        (
            _PROFILES["their doctor"],
            {"ids": [patient_id], "caller_patient_id": None, "caller_doctor_id": doctor_id},
        ),
    ]
    request = RequestSessions(engine)
    try:
        direct = [[tuple(row) for row in await request.rows(*read)] for read in reads]
    finally:
        await request.close()
    async with sessions() as session:
        through_session = [
            [tuple(row) for row in (await session.execute(*read)).all()] for read in reads
        ]

    assert direct == through_session
    assert [len(rows) for rows in direct] == [2, 1, 1]
    assert [row[3] for row in direct[0]] == [RecordType.IMAGING, RecordType.LAB_REPORT]
    assert type(direct[0][0][3]) is RecordType


async def test_direct_reads_take_the_connection_in_one_greenlet_and_then_none(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work done: the checkout is the only greenlet switch until the request ends."""
    spawned = _greenlets_spawned(monkeypatch, "db.request_sessions")
    request = RequestSessions(engine)
    try:
        pids = {(await request.rows(PID, {}))[0][0] for _ in range(3)}
    finally:
        await request.close()

    assert (len(pids), spawned) == (1, ["lend_driver", "close"])


async def test_a_session_that_sent_nothing_closes_without_a_greenlet(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work done: a booking's session, unused when the day is cached, costs no greenlet
    (nor a task) to close; one that read does."""
    spawned = _greenlets_spawned(monkeypatch, "sqlalchemy.ext.asyncio.session")
    request = RequestSessions(engine)
    try:
        async with request.atomic_statements():
            pass
        unused = list(spawned)
        async with request() as session:
            pid = await session.scalar(PID)
    finally:
        await request.close()

    assert (unused, spawned, isinstance(pid, int)) == ([], ["scalar", "close"], True)


async def test_direct_statements_are_counted_as_a_sessions_are(engine: AsyncEngine) -> None:
    request = RequestSessions(engine)
    try:
        with counting_statements() as log:
            await request.rows(PID, {})
    finally:
        await request.close()

    assert log.statements == [compiled(PID, engine.dialect).sql]


async def test_a_direct_read_while_a_session_holds_the_connection_takes_its_own(
    engine: AsyncEngine,
) -> None:
    request = RequestSessions(engine)
    pool = engine.sync_engine.pool
    try:
        async with request() as holding:
            held = await holding.scalar(text("SELECT pg_backend_pid()"))
            other = (await request.rows(PID, {}))[0][0]
        after = (await request.rows(PID, {}))[0][0]
    finally:
        await request.close()

    assert (other != held, after == held) == (True, True)
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("heard", HEARD)
async def test_a_direct_read_on_a_connection_that_died_before_it_goes_to_a_new_one(
    engine: AsyncEngine, heard: str
) -> None:
    request = RequestSessions(engine)
    try:
        first = (await request.rows(PID, {}))[0][0]
        await end_connection(engine, await _driver_of(request), heard=heard)
        second = (await request.rows(PID, {}))[0][0]
    finally:
        await request.close()

    assert second != first


async def test_a_direct_read_whose_connection_dies_under_it_is_sent_again(
    engine: AsyncEngine,
) -> None:
    """A read alone loses nothing: it is sent once more, on a new connection."""
    key = uuid.uuid4().int % 2**62
    read = PID.select_from(select(func.pg_advisory_xact_lock_shared(key)).subquery())
    request = RequestSessions(engine)
    try:
        async with _ended_while_waiting(engine, request, key, request.rows(read, {})) as (
            first,
            waiting,
            unlock,
        ):
            await unlock()  # the read sent again must not wait
            async with asyncio.timeout(30):
                second = (await waiting)[0][0]
    finally:
        await request.close()

    assert second != first


@pytest.mark.parametrize("heard", HEARD)
async def test_a_direct_change_on_a_connection_that_died_before_it_goes_to_a_new_one(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], heard: str
) -> None:
    """asyncpg knows the connection is closed, or refuses to send on it: nothing was
    sent, nothing lost."""
    marker = str(uuid.uuid4())
    request = RequestSessions(engine)
    try:
        first = (await request.rows(PID, {}))[0][0]
        await end_connection(engine, await _driver_of(request), heard=heard)
        await request.execute_atomic(_outbox_row(marker), {})
        second = (await request.rows(PID, {}))[0][0]
    finally:
        await request.close()

    assert (await _kept(sessions, marker), second != first) == (1, True)


async def test_a_direct_change_whose_connection_dies_under_it_is_not_sent_again(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """It might have committed: the caller hears of it, and the request's next read
    reconnects."""
    marker, key = str(uuid.uuid4()), uuid.uuid4().int % 2**62
    change = _outbox_row(marker, after_lock=key)
    request = RequestSessions(engine)
    try:
        async with _ended_while_waiting(
            engine, request, key, request.execute_atomic(change, {})
        ) as (
            first,
            waiting,
            _,
        ):
            with pytest.raises(asyncpg.ConnectionDoesNotExistError):
                async with asyncio.timeout(30):  # sent again, it would wait for the lock
                    await waiting
        second = (await request.rows(PID, {}))[0][0]
    finally:
        await request.close()

    assert (await _kept(sessions, marker), second != first) == (0, True)


@contextlib.asynccontextmanager
async def _ended_while_waiting(
    engine: AsyncEngine, request: RequestSessions, key: int, statement: Coroutine[Any, Any, T]
) -> AsyncIterator[tuple[int, "asyncio.Task[T]", Callable[[], Awaitable[None]]]]:
    """``statement`` (one that takes advisory lock ``key``) sent on the request's
    connection, left waiting on the lock held here, and its backend ended meanwhile.
    Yields the backend's pid, the statement's task, and how to release the lock."""
    async with engine.connect() as locker:
        await locker.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        held = True

        async def unlock() -> None:
            nonlocal held
            if held:
                held = False
                await locker.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

        try:
            first = (await request.rows(PID, {}))[0][0]
            waiting = asyncio.create_task(statement)
            await until_waiting_on_a_lock(engine, first)
            await terminate_backend(engine, first)
            yield first, waiting, unlock
        finally:
            await unlock()


def _greenlets_spawned(monkeypatch: pytest.MonkeyPatch, module: str) -> list[str]:
    """The names of the functions ``module`` runs in greenlets from now on."""
    spawned: list[str] = []

    async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        spawned.append(function.__name__)
        return await greenlet_spawn(function, *args, **kwargs)

    monkeypatch.setattr(f"{module}.greenlet_spawn", counted)
    return spawned


async def _driver_of(request: RequestSessions) -> asyncpg.Connection:
    """asyncpg's connection under the request's."""
    async with request() as session:
        raw = await (await session.connection()).get_raw_connection()
        return cast(asyncpg.Connection, raw.driver_connection)


def _outbox_row(marker: str, *, after_lock: int | None = None) -> Insert:
    row = select(literal("test"), func.jsonb_build_object("marker", marker))
    if after_lock is not None:
        row = row.select_from(select(func.pg_advisory_xact_lock(after_lock)).subquery())
    return insert(OutboxMessage).from_select(["topic", "payload"], row)


async def _kept(sessions: async_sessionmaker[AsyncSession], marker: str) -> int:
    """How many outbox rows carry ``marker`` (deleted, so the relay never sees them)."""
    async with sessions.begin() as session:
        matching = OutboxMessage.payload["marker"].astext == marker
        kept = await session.scalar(select(func.count()).where(matching))
        await session.execute(delete(OutboxMessage).where(matching))
    return kept or 0


async def test_a_direct_change_commits_by_itself(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    marker = str(uuid.uuid4())
    request = RequestSessions(engine)
    try:
        await request.execute_atomic(
            insert(OutboxMessage).values(topic="test", payload=bindparam("payload")),
            {"payload": {"marker": marker}},
        )
    finally:
        await request.close()

    assert await _kept(sessions, marker) == 1


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "session"])
async def test_a_change_returns_its_rows_and_a_broken_constraint_the_sessions_error(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], direct: bool
) -> None:
    """Straight to asyncpg or through a session (a traced engine), the same rows and
    the same IntegrityError, with the constraint's name where callers look for it."""
    marker = str(uuid.uuid4())
    returning = (
        insert(OutboxMessage)
        .values(topic="test", payload=bindparam("payload"))
        .returning(OutboxMessage.topic, OutboxMessage.payload)
    )
    request = RequestSessions(engine, direct=direct)
    try:
        rows = await request.execute_atomic(returning, {"payload": {"marker": marker}})
        with pytest.raises(IntegrityError) as raised:
            await request.execute_atomic(
                insert(OutboxMessage).values(topic=None, payload={"marker": marker}), {}
            )
        after = (await request.rows(PID, {}))[0][0]
    finally:
        await request.close()

    assert [tuple(row) for row in rows] == [("test", {"marker": marker})]
    assert 'null value in column "topic" of relation "outbox"' in str(raised.value.orig)
    assert (await _kept(sessions, marker), after > 0) == (1, True)


async def test_a_change_beside_the_session_holding_the_connection_goes_through_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Not through a second connection: a hundred bookings, each holding one and
    waiting for another, waited for each other until their deadlines."""
    marker = str(uuid.uuid4())
    change = (
        insert(OutboxMessage)
        .values(topic="test", payload=bindparam("payload"))
        .returning(func.pg_backend_pid())
    )
    pool = engine.sync_engine.pool
    request = RequestSessions(engine)
    try:
        async with request.atomic_statements() as session:
            held = await session.scalar(PID)
            rows = await request.execute_atomic(
                change, {"payload": {"marker": marker}}, beside=session
            )
            taken = pool.checkedout()  # type: ignore[attr-defined]
    finally:
        await request.close()

    assert (rows[0][0], taken, await _kept(sessions, marker)) == (held, 1, 1)


async def test_a_direct_statement_that_cannot_be_sent_gives_the_connection_back(
    engine: AsyncEngine,
) -> None:
    """A parameter missing: the error SQLAlchemy gives, and the request's next direct
    statement still has the request's connection."""
    request = RequestSessions(engine)
    try:
        first = (await request.rows(PID, {}))[0][0]
        with pytest.raises(InvalidRequestError) as raised:
            await request.rows(records_statement(False, False), {"rows": 1})
        second = (await request.rows(PID, {}))[0][0]
    finally:
        await request.close()

    assert (str(raised.value), second) == (
        "A value is required for bind parameter 'patient_ids'",
        first,
    )


def test_a_statement_with_an_expanding_parameter_is_refused(engine: AsyncEngine) -> None:
    statement = select(MedicalRecord.id).where(
        MedicalRecord.id.in_(bindparam("ids", expanding=True, type_=Uuid()))
    )
    message = "a direct statement takes no expanding, literal-execute or callable parameters"
    with pytest.raises(ValueError, match=f"^{message}$"):
        compiled(statement, engine.dialect)
