import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Clinic
from domain.clinics import clinic_links


async def load_clinics_of_doctors(
    sessions: async_sessionmaker[AsyncSession], doctor_ids: Sequence[uuid.UUID]
) -> list[list[Clinic]]:
    async with sessions() as session:
        links = await clinic_links(session, doctor_ids)
    by_doctor: defaultdict[uuid.UUID, list[Clinic]] = defaultdict(list)
    for doctor_id, clinic in links:
        by_doctor[doctor_id].append(clinic)
    return [by_doctor[doctor_id] for doctor_id in doctor_ids]
