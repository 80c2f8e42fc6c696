"""The process-wide clients: the analytics connection can read but never write."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Clinic
from services.container import open_services
from services.settings import Settings


async def test_analytics_sessions_are_read_only_on_the_primary(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with open_services(settings) as services:
        async with services.analytics_sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Clinic)) == 0

        with pytest.raises(DBAPIError, match="read-only transaction"):
            async with services.analytics_sessions.begin() as session:
                await session.execute(
                    text(
                        "INSERT INTO clinics (id, name, timezone)"
                        " VALUES (gen_random_uuid(), 'X', 'UTC')"
                    )
                )

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Clinic)) == 0
