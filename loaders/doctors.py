import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Doctor
from domain.doctors import doctors_by_ids


async def load_doctors(
    sessions: async_sessionmaker[AsyncSession], ids: Sequence[uuid.UUID]
) -> list[Doctor | None]:
    async with sessions() as session:
        by_id = {doctor.id: doctor for doctor in await doctors_by_ids(session, ids)}
    return [by_id.get(id_) for id_ in ids]
