"""PostgreSQL backends ended from outside, as a restart or an idle timeout would end them."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def terminate_backend(engine: AsyncEngine, pid: int) -> None:
    """The server ends backend ``pid``'s connection; returns once it is gone."""
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with asyncio.timeout(10):
            while await other.scalar(  # noqa: ASYNC110 - polled
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ):
                await asyncio.sleep(0.02)
