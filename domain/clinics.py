import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Clinic, DoctorClinic
from domain.timezones import clinic_zone
from services.errors import BadUserInput


async def list_clinics(session: AsyncSession) -> Sequence[Clinic]:
    return (await session.scalars(select(Clinic).order_by(Clinic.name, Clinic.id))).all()


async def clinic_links(
    session: AsyncSession, doctor_ids: Sequence[uuid.UUID]
) -> Sequence[tuple[uuid.UUID, Clinic]]:
    """Each doctor's clinics, as (doctor id, clinic) pairs, in one statement."""
    rows = await session.execute(
        select(DoctorClinic.doctor_id, Clinic)
        .join(Clinic, Clinic.id == DoctorClinic.clinic_id)
        .where(DoctorClinic.doctor_id.in_(doctor_ids))
        .order_by(Clinic.name, Clinic.id)
    )
    return [(doctor_id, clinic) for doctor_id, clinic in rows.all()]


async def create_clinic(
    session: AsyncSession, *, name: str, address: str | None, timezone: str
) -> Clinic:
    if not name.strip():
        raise BadUserInput("`name` must not be empty.")
    clinic = Clinic(name=name.strip(), address=address, timezone=clinic_zone(timezone).key)
    session.add(clinic)
    await session.flush()
    return clinic
