"""The one connection a request's sessions share (db/request_sessions.py)."""

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.request_sessions import RequestSessions


async def test_sessions_that_start_at_once_on_an_empty_pool_leave_no_connection_out(
    engine: AsyncEngine,
) -> None:
    """Two fields read at once (``{ clinics doctors }``) on a pool with no idle connection:
    taking the first one waits for a new connection, and the other session must not take
    a second one for the request meanwhile. Before, it did, and the first was orphaned:
    out of the pool until the garbage collector closed it, one a request."""
    # The test database's engine has idle connections: a new one has none.
    fresh = create_engine(engine.url.render_as_string(hide_password=False))
    pool = fresh.sync_engine.pool
    sessions = RequestSessions(fresh)

    async def read(value: int) -> int | None:
        async with sessions() as session:
            result: int | None = await session.scalar(text(f"SELECT {value}"))
            return result

    try:
        answers = await asyncio.gather(read(1), read(2))
        await sessions.close()
        checked_out = pool.checkedout()  # type: ignore[attr-defined]
    finally:
        await fresh.dispose()

    assert (list(answers), checked_out) == ([1, 2], 0)


async def test_an_atomic_statement_commits_alone_while_another_session_holds_the_connection(
    engine: AsyncEngine,
) -> None:
    """A session opened while another of the request holds its connection takes one of
    its own. For ``atomic_statements()`` (a booking, the audit rows) that one must commit
    each statement alone too: in a transaction, closing the session without a commit
    rolled the booking back while the API answered it as made."""
    sessions = RequestSessions(engine)
    marker = str(uuid.uuid4())
    insert = text(
        "INSERT INTO outbox (topic, payload) VALUES ('test', jsonb_build_object('marker', CAST(:m AS text)))"
    )
    try:
        async with sessions() as holding:
            await holding.scalar(text("SELECT 1"))  # holds the request's connection
            async with sessions.atomic_statements() as writing:
                await writing.execute(insert, {"m": marker})
    finally:
        await sessions.close()
    async with engine.connect() as connection:
        kept = await connection.scalar(
            text("SELECT count(*) FROM outbox WHERE payload->>'marker' = :m"), {"m": marker}
        )
        await connection.execute(
            text("DELETE FROM outbox WHERE payload->>'marker' = :m"), {"m": marker}
        )
        await connection.commit()

    assert kept == 1
