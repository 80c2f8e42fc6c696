"""Reading appointments, always together with whether the caller may see them."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus
from db.models import Appointment, Clinic
from domain.caller import Caller
from domain.pagination import Cursor, Page, check_page_size
from services.errors import BadUserInput


def may_read_appointment(caller: Caller) -> ColumnElement[bool]:
    """Its patient, its doctor, and admins."""
    if caller.is_admin:
        return true()
    conditions = []
    if caller.patient_id is not None:
        conditions.append(Appointment.patient_id == caller.patient_id)
    if caller.doctor_id is not None:
        conditions.append(Appointment.doctor_id == caller.doctor_id)
    return or_(*conditions) if conditions else false()


async def appointments_for(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Appointment, bool]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Appointment, may_read_appointment(caller)).where(Appointment.id.in_(ids))
        )
    return {appointment.id: (appointment, bool(allowed)) for appointment, allowed in rows.all()}


async def patient_appointments(
    session: AsyncSession,
    patient_id: uuid.UUID,
    *,
    first: int,
    after: Cursor | None,
    statuses: Sequence[AppointmentStatus] | None,
) -> Page[Appointment]:
    """Newest first, by start time."""
    check_page_size(first)
    query = (
        select(Appointment)
        .where(Appointment.patient_id == patient_id)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(first + 1)
    )
    if statuses:
        query = query.where(Appointment.status.in_(statuses))
    if after is not None:
        query = query.where(
            tuple_(Appointment.starts_at, Appointment.id) < (after.at, after.uuid())
        )
    rows = (await session.scalars(query)).all()
    return Page(items=rows[:first], has_next_page=len(rows) > first)


def appointment_cursor(appointment: Appointment) -> Cursor:
    return Cursor(appointment.starts_at, str(appointment.id))


MAX_SCHEDULE_DAYS = 31


async def doctor_schedule(
    session: AsyncSession, doctor_id: uuid.UUID, first_day: date, last_day: date
) -> Sequence[Appointment]:
    """The doctor's appointments (not cancelled) from ``first_day`` to ``last_day``
    (inclusive) in each clinic's local time, by start."""
    if last_day < first_day:
        raise BadUserInput("`to` must not be before `from`.")
    if (last_day - first_day).days + 1 > MAX_SCHEDULE_DAYS:
        raise BadUserInput(f"A schedule covers at most {MAX_SCHEDULE_DAYS} days.")
    window_start = datetime.combine(first_day, datetime.min.time(), UTC) - timedelta(days=1)
    window_end = datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(days=2)
    local_date = func.date(func.timezone(Clinic.timezone, Appointment.starts_at))
    query = (
        select(Appointment)
        .join(Clinic, Clinic.id == Appointment.clinic_id)
        .where(
            Appointment.doctor_id == doctor_id,
            Appointment.status != AppointmentStatus.CANCELLED,
            # The index narrows to UTC days; the clinic's zone picks the local ones.
            Appointment.starts_at >= window_start,
            Appointment.starts_at < window_end,
            local_date.between(first_day, last_day),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return (await session.scalars(query)).all()
