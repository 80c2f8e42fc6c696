import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Appointment
from domain.appointments import appointments_for
from domain.audit import AuditTrail
from domain.caller import Caller
from loaders.guarded import load_guarded


async def load_readable_appointments(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller | None,
    audit: AuditTrail,
    ids: Sequence[uuid.UUID],
) -> list[Appointment | Exception | None]:
    """The door to single appointments, like the one to patients."""
    return await load_guarded(
        sessions,
        caller,
        audit,
        ids,
        fetch=appointments_for,
        noun="appointment",
        patient_of=lambda appointment: appointment.patient_id,
    )
