import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AuditOutcome
from db.models import Appointment
from domain.appointments import appointments_for
from domain.audit import AuditEvent, AuditTrail
from domain.caller import Caller
from services.errors import Forbidden, Unauthenticated

NOT_YOURS = "You may not see this appointment."


async def load_readable_appointments(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller | None,
    audit: AuditTrail,
    ids: Sequence[uuid.UUID],
) -> list[Appointment | Exception | None]:
    """The door to single appointments: checks access and audits, like patients."""
    if caller is None:
        return [Unauthenticated("Sign in to see appointments.") for _ in ids]
    async with sessions() as session:
        found = await appointments_for(session, caller, ids)
    results: list[Appointment | Exception | None] = []
    for id_ in ids:
        appointment, allowed = found.get(id_, (None, caller.is_admin))
        audit.record(
            AuditEvent(
                action="appointment.read",
                outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.DENIED,
                patient_id=appointment.patient_id if appointment is not None else None,
                resource_type="Appointment",
                resource_id=str(id_),
            )
        )
        results.append(appointment if allowed else Forbidden(NOT_YOURS))
    return results
