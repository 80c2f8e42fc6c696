"""Doctors' weekly templates and the exceptions when they are away."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, DateTime, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Clinic, DoctorClinic, ScheduleException, ScheduleTemplate
from domain.savepoints import flush_guarded
from services.errors import BadUserInput

MIN_SLOT_MINUTES, MAX_SLOT_MINUTES = 5, 240


async def add_template(
    session: AsyncSession,
    *,
    doctor_id: uuid.UUID,
    clinic_id: uuid.UUID,
    day_of_week: int,
    start_time: time,
    end_time: time,
    slot_minutes: int,
) -> ScheduleTemplate:
    """Does not commit. Overlaps with the doctor's other blocks that weekday are refused
    by the database (an exclusion constraint) and reported as bad input."""
    if not 1 <= day_of_week <= 7:
        raise BadUserInput("`dayOfWeek` must be 1 (Monday) to 7 (Sunday).")
    if end_time <= start_time:
        raise BadUserInput("`endTime` must be after `startTime`.")
    if not MIN_SLOT_MINUTES <= slot_minutes <= MAX_SLOT_MINUTES:
        raise BadUserInput(
            f"`slotMinutes` must be between {MIN_SLOT_MINUTES} and {MAX_SLOT_MINUTES}."
        )
    works_there = await session.scalar(
        select(DoctorClinic.doctor_id).where(
            DoctorClinic.doctor_id == doctor_id, DoctorClinic.clinic_id == clinic_id
        )
    )
    if works_there is None:
        raise BadUserInput("The doctor does not work at that clinic.")
    template = ScheduleTemplate(
        doctor_id=doctor_id,
        clinic_id=clinic_id,
        day_of_week=day_of_week,
        start_time=start_time,
        end_time=end_time,
        slot_minutes=slot_minutes,
    )
    try:
        await flush_guarded(session, lambda: session.add(template))
    except IntegrityError as error:
        if "ex_schedule_templates_no_overlap" in str(error.orig):
            raise BadUserInput(
                "This block overlaps another of the doctor's blocks on that weekday."
            ) from None
        raise
    return template


async def add_exception(
    session: AsyncSession,
    *,
    doctor_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None,
) -> ScheduleException:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise BadUserInput("`startsAt` and `endsAt` need a UTC offset.")
    if ends_at <= starts_at:
        raise BadUserInput("`endsAt` must be after `startsAt`.")
    exception = ScheduleException(
        doctor_id=doctor_id, starts_at=starts_at, ends_at=ends_at, reason=reason
    )
    session.add(exception)
    try:
        await session.flush()
    except IntegrityError as error:
        if "fk_schedule_exceptions_doctor_id_doctors" in str(error.orig):
            raise BadUserInput("No doctor has that id.") from None
        raise
    return exception


async def templates_of(
    session: AsyncSession, doctor_ids: Sequence[uuid.UUID]
) -> Sequence[ScheduleTemplate]:
    """The doctors' weekly blocks, Monday first, each day in order."""
    return (
        await session.scalars(
            select(ScheduleTemplate)
            .where(ScheduleTemplate.doctor_id.in_(doctor_ids))
            .order_by(
                ScheduleTemplate.day_of_week, ScheduleTemplate.start_time, ScheduleTemplate.id
            )
        )
    ).all()


async def exceptions_of(
    session: AsyncSession,
    doctor_ids: Sequence[uuid.UUID],
    first_day: date | None,
    last_day: date | None,
) -> Sequence[ScheduleException]:
    """The doctors' exceptions, earliest first; with dates, those that touch them (from
    ``first_day`` to ``last_day`` inclusive) in the local time of a clinic of the doctor."""
    query = (
        select(ScheduleException)
        .where(ScheduleException.doctor_id.in_(doctor_ids))
        .order_by(ScheduleException.starts_at, ScheduleException.id)
    )
    if first_day is not None or last_day is not None:
        touches = [DoctorClinic.doctor_id == ScheduleException.doctor_id]
        if first_day is not None:
            touches.append(ScheduleException.ends_at > _local_midnight(first_day))
        if last_day is not None:
            touches.append(
                ScheduleException.starts_at < _local_midnight(last_day + timedelta(days=1))
            )
        query = query.where(
            select(DoctorClinic.doctor_id)
            .join(Clinic, Clinic.id == DoctorClinic.clinic_id)
            .where(*touches)
            .exists()
        )
    return (await session.scalars(query)).all()


def _local_midnight(day: date) -> ColumnElement[datetime]:
    """The instant ``day`` begins in the clinic's zone."""
    return func.timezone(Clinic.timezone, cast(day, DateTime()))
