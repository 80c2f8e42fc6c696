import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.audit import AuditTrail
from domain.caller import Caller
from domain.patients import PatientProfile, patients_for
from loaders.guarded import load_guarded


async def load_readable_patients(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller | None,
    audit: AuditTrail,
    ids: Sequence[uuid.UUID],
) -> list[PatientProfile | Exception | None]:
    """The one door to a patient's data."""
    return await load_guarded(
        sessions,
        caller,
        audit,
        ids,
        fetch=patients_for,
        noun="patient",
        patient_of=lambda profile: profile.patient.id,
    )
