"""Statement and lock timeouts: a statement that waits past either is cancelled by
PostgreSQL and answered SERVICE_UNAVAILABLE, and the connection serves the next request."""

import dataclasses

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.outages import UNAVAILABLE_MESSAGE
from services.settings import Settings
from tests.support.api import error_codes, graphql, serving

CLINICS = "query Clinics { clinics { id } }"
# Only statements of the API are counted: ours (the lock holder) is idle in its transaction.
WAITING = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND state = 'active' AND query LIKE '%FROM clinics%'"
    " AND pid <> pg_backend_pid()"
)


@pytest.mark.parametrize(
    ("statement_timeout_ms", "lock_timeout_ms"),
    [(300, 60_000), (60_000, 300)],
    ids=["statement_timeout", "lock_timeout"],
)
async def test_a_statement_waiting_past_its_timeout_is_unavailable(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
    statement_timeout_ms: int, lock_timeout_ms: int,
) -> None:  # fmt: skip
    quick = dataclasses.replace(
        settings, statement_timeout_ms=statement_timeout_ms, lock_timeout_ms=lock_timeout_ms
    )
    async with serving(quick) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        async with engine.connect() as holder:
            # Held until the end of the block: every read of clinics waits for it.
            await holder.execute(text("LOCK TABLE clinics IN ACCESS EXCLUSIVE MODE"))
            blocked = await graphql(http, CLINICS)
            async with engine.connect() as observer:
                still_waiting = (await observer.execute(WAITING)).scalar_one()
            await holder.rollback()
        after = await graphql(http, CLINICS)

    assert error_codes(blocked) == ["SERVICE_UNAVAILABLE"]
    assert blocked["errors"][0]["message"] == UNAVAILABLE_MESSAGE
    assert still_waiting == 0  # cancelled by the server, not just given up on
    assert after == {"data": {"clinics": []}}
