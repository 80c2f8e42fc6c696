import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Notification
from domain.notifications import notifications_of


async def load_notifications(
    sessions: async_sessionmaker[AsyncSession], appointment_ids: Sequence[uuid.UUID]
) -> list[list[Notification]]:
    async with sessions() as session:
        rows = await notifications_of(session, appointment_ids)
    by_appointment: defaultdict[uuid.UUID, list[Notification]] = defaultdict(list)
    for row in rows:
        if row.appointment_id is not None:
            by_appointment[row.appointment_id].append(row)
    return [by_appointment[id_] for id_ in appointment_ids]
