"""PostgreSQL backends ended from outside, as a restart or an idle timeout would end them."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# What the client has heard of its connection's end (see end_connection).
HEARD = ("everything", "the last message")


async def terminate_backend(engine: AsyncEngine, pid: int) -> None:
    """The server ends backend ``pid``'s connection; returns once it is gone."""
    async with _observer(engine) as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with asyncio.timeout(10):
            while await other.scalar(  # noqa: ASYNC110 - polled
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ):
                await asyncio.sleep(0.02)


async def until_waiting_on_a_lock(engine: AsyncEngine, pid: int) -> None:
    """Returns once backend ``pid`` waits for a lock."""
    async with _observer(engine) as other, asyncio.timeout(10):
        while not await other.scalar(  # noqa: ASYNC110 - polled
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        ):
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def _observer(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose every statement is a transaction of its own: within one
    transaction pg_stat_activity is a snapshot taken at its first read, and a poll
    would see the same backends forever."""
    async with engine.connect() as other:
        yield await other.execution_options(isolation_level="AUTOCOMMIT")


async def end_connection(engine: AsyncEngine, driver: asyncpg.Connection, *, heard: str) -> None:
    """The server ends ``driver``'s connection, and the client has heard of it:

    - ``"everything"``: its last message and the end of the stream, so asyncpg knows
      the connection is closed;
    - ``"the last message"``: only the server's FATAL error, as between the two turns
      of the event loop that read it and then the end of the stream. asyncpg cannot
      tell yet that the connection is closed (reading stays paused until it is
      replaced)."""
    transport: Any = driver._transport  # type: ignore[attr-defined]
    transport.pause_reading()
    await terminate_backend(engine, driver.get_server_pid())
    # What the server sent before it went, read as the event loop would read it.
    last_message = os.read(transport.get_extra_info("socket").fileno(), 65536)
    assert last_message.startswith(b"E"), last_message
    driver._protocol.data_received(last_message)  # type: ignore[attr-defined]
    if heard == "everything":
        transport.resume_reading()
        async with asyncio.timeout(10):
            while not driver.is_closed():  # noqa: ASYNC110 - polled
                await asyncio.sleep(0.01)
    else:
        assert heard == "the last message", heard
        assert not driver.is_closed()
