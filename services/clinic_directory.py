"""Every clinic, held in the process: clinics are few and change rarely, and each slot
names one, so the busiest read should not ask the database for them."""

import asyncio
import time
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Clinic

REFRESH_SECONDS = 60.0


class ClinicDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._clinics: dict[uuid.UUID, Clinic] = {}
        self._loaded_at = float("-inf")
        # Fields resolving together must share one refresh, not start one each.
        self._refreshing = asyncio.Lock()

    async def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Clinic]:
        """The clinics with these ids. One statement at most, once a minute, or when
        an id is new to this process (a clinic created by another one)."""
        wanted = set(ids)
        if not wanted:
            return {}
        if self._needs_refresh(wanted):
            async with self._refreshing:
                if self._needs_refresh(wanted):
                    async with self._sessions() as session:
                        clinics = (await session.scalars(select(Clinic))).all()
                    self._clinics = {clinic.id: clinic for clinic in clinics}
                    self._loaded_at = time.monotonic()
        return {id_: self._clinics[id_] for id_ in wanted if id_ in self._clinics}

    def expire(self) -> None:
        """After a change to a clinic: the next read refreshes."""
        self._loaded_at = float("-inf")

    def _needs_refresh(self, wanted: set[uuid.UUID]) -> bool:
        stale = time.monotonic() - self._loaded_at > REFRESH_SECONDS
        return stale or not wanted <= self._clinics.keys()
