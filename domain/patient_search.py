"""A doctor's patients (an admin's: everyone), newest first, found by any part of a name
or e-mail address in any case. Trigram indexes (pg_trgm) serve the search."""

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Role
from db.models import Patient, User
from domain.caller import Caller
from domain.pagination import Cursor, Page, check_page_size
from domain.patients import PatientProfile, may_read_patient
from services.errors import Forbidden

NO_PATIENTS = "Only doctors and administrators have patients to list."


def _contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def my_patients(
    session: AsyncSession,
    caller: Caller,
    *,
    search: str | None,
    first: int,
    after: Cursor | None,
) -> Page[PatientProfile]:
    """Patients the caller may read: for a doctor those who have or had an appointment
    with them, for an admin all."""
    if not (caller.is_admin or (caller.role is Role.DOCTOR and caller.doctor_id is not None)):
        raise Forbidden(NO_PATIENTS)
    check_page_size(first)
    query = (
        select(Patient, User.email)
        .join(User, User.id == Patient.user_id)
        .where(may_read_patient(caller))
        .order_by(Patient.created_at.desc(), Patient.id.desc())
        .limit(first + 1)
    )
    if search is not None and search.strip():
        pattern = _contains(search.strip())
        query = query.where(
            or_(Patient.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
    if after is not None:
        query = query.where(tuple_(Patient.created_at, Patient.id) < (after.at, after.uuid()))
    rows = [PatientProfile(patient, email) for patient, email in (await session.execute(query))]
    return Page(items=rows[:first], has_next_page=len(rows) > first)


def patient_cursor(profile: PatientProfile) -> Cursor:
    return Cursor(profile.patient.created_at, str(profile.patient.id))
