import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AuditOutcome
from domain.audit import AuditEvent, AuditTrail
from domain.caller import Caller
from domain.patients import PatientProfile, patients_for
from services.errors import Forbidden, Unauthenticated

NOT_YOURS = "You may not see this patient."


async def load_readable_patients(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller | None,
    audit: AuditTrail,
    ids: Sequence[uuid.UUID],
) -> list[PatientProfile | Exception | None]:
    """The one door to a patient's data: checks access, audits every read and refusal.

    A caller who may not see a patient is refused the same way whether or not
    it exists; only admins learn that an id is unknown (null).
    """
    if caller is None:
        return [Unauthenticated("Sign in to see patients.") for _ in ids]
    async with sessions() as session:
        found = await patients_for(session, caller, ids)
    results: list[PatientProfile | Exception | None] = []
    for id_ in ids:
        profile, allowed = found.get(id_, (None, caller.is_admin))
        audit.record(
            AuditEvent(
                action="patient.read",
                outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.DENIED,
                patient_id=id_ if profile is not None else None,
                resource_type="Patient",
                resource_id=str(id_),
            )
        )
        results.append(profile if allowed else Forbidden(NOT_YOURS))
    return results
