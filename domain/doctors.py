import uuid
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Role
from db.models import Clinic, Doctor, DoctorClinic
from domain.pagination import Cursor, Page, check_page_size
from domain.users import create_user
from services.errors import BadUserInput


async def list_doctors(
    session: AsyncSession,
    *,
    first: int,
    after: Cursor | None = None,
    specialty: str | None = None,
    clinic_id: uuid.UUID | None = None,
) -> Page[Doctor]:
    """Active doctors newest first, optionally of one specialty or working at one clinic."""
    check_page_size(first)
    query = select(Doctor).where(Doctor.active).order_by(Doctor.created_at.desc(), Doctor.id.desc())
    if specialty is not None:
        query = query.where(Doctor.specialty == specialty)
    if clinic_id is not None:
        query = query.where(
            select(DoctorClinic.doctor_id)
            .where(DoctorClinic.doctor_id == Doctor.id, DoctorClinic.clinic_id == clinic_id)
            .exists()
        )
    if after is not None:
        query = query.where(tuple_(Doctor.created_at, Doctor.id) < (after.at, after.uuid()))
    # One extra row tells whether another page exists without a COUNT.
    rows = (await session.scalars(query.limit(first + 1))).all()
    return Page(items=rows[:first], has_next_page=len(rows) > first)


async def doctors_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Doctor]:
    return (await session.scalars(select(Doctor).where(Doctor.id.in_(ids)))).all()


def doctor_cursor(doctor: Doctor) -> Cursor:
    return Cursor(doctor.created_at, str(doctor.id))


async def create_doctor(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str,
    specialty: str,
    clinic_ids: Sequence[uuid.UUID],
) -> Doctor:
    """A doctor's account and profile, working at the given clinics. Does not commit."""
    if not specialty.strip():
        raise BadUserInput("`specialty` must not be empty.")
    wanted = set(clinic_ids)
    found = set(await session.scalars(select(Clinic.id).where(Clinic.id.in_(wanted))))
    if missing := wanted - found:
        raise BadUserInput(f"No clinic has the id {sorted(map(str, missing))[0]}.")
    new = await create_user(
        session,
        email=email,
        password=password,
        role=Role.DOCTOR,
        name=name,
        specialty=specialty.strip(),
    )
    assert new.doctor is not None
    session.add_all(DoctorClinic(doctor_id=new.doctor.id, clinic_id=id_) for id_ in wanted)
    await session.flush()
    return new.doctor
