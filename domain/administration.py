"""Administrators change clinics, doctors and schedules. Bookings are never touched.

Each change says which of the doctors' days it moved (``StaleDays``), so that exactly
those cached days are dropped once it commits: a template its weekday, an exception the
dates it spans, a clinic's time zone or a doctor's deactivation every day.
"""

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Clinic, Doctor, DoctorClinic, ScheduleException, ScheduleTemplate
from domain.timezones import clinic_zone
from services.errors import BadUserInput, Conflict, NotFound
from services.slot_cache import StaleDays

MAX_CUTOFF_HOURS = 720  # 30 days; the database refuses more too
# An exception longer than this many dates drops every cached day of the doctor instead.
MAX_STALE_DATES = 62


class Keep(enum.Enum):
    """A field left as it is (``None`` clears the fields that may be empty)."""

    KEEP = "keep"


KEEP: Literal[Keep.KEEP] = Keep.KEEP


@dataclass(frozen=True, slots=True)
class ClinicChanges:
    name: str | Keep = KEEP
    address: str | Keep | None = KEEP
    timezone: str | Keep = KEEP
    cancellation_cutoff_hours: int | Keep = KEEP


@dataclass(frozen=True, slots=True)
class DoctorChanges:
    name: str | Keep = KEEP
    specialty: str | Keep = KEEP
    clinic_ids: Sequence[uuid.UUID] | Keep = KEEP
    active: bool | Keep = KEEP


def _not_blank(value: str, field: str) -> str:
    if not value.strip():
        raise BadUserInput(f"`{field}` must not be empty.")
    return value.strip()


async def update_clinic(
    session: AsyncSession, clinic_id: uuid.UUID, changes: ClinicChanges
) -> tuple[Clinic, list[StaleDays]]:
    """Does not commit. A new time zone moves every slot of every doctor there."""
    clinic = await session.scalar(select(Clinic).where(Clinic.id == clinic_id).with_for_update())
    if clinic is None:
        raise NotFound("No clinic has that id.")
    stale: list[StaleDays] = []
    if not isinstance(changes.name, Keep):
        clinic.name = _not_blank(changes.name, "name")
    if not isinstance(changes.address, Keep):
        clinic.address = changes.address
    if not isinstance(changes.cancellation_cutoff_hours, Keep):
        if not 0 <= changes.cancellation_cutoff_hours <= MAX_CUTOFF_HOURS:
            raise BadUserInput(
                f"`cancellationCutoffHours` must be between 0 and {MAX_CUTOFF_HOURS}."
            )
        clinic.cancellation_cutoff_hours = changes.cancellation_cutoff_hours
    if not isinstance(changes.timezone, Keep):
        zone = clinic_zone(changes.timezone).key
        if zone != clinic.timezone:
            clinic.timezone = zone
            doctors = await session.scalars(
                select(DoctorClinic.doctor_id).where(DoctorClinic.clinic_id == clinic_id)
            )
            stale = [StaleDays(doctor_id, every_day=True) for doctor_id in doctors]
    await session.flush()
    return clinic, stale


async def update_doctor(
    session: AsyncSession, doctor_id: uuid.UUID, changes: DoctorChanges
) -> tuple[Doctor, list[StaleDays]]:
    """Does not commit. Deactivation hides the doctor and every slot of theirs; leaving
    a clinic takes the templates there with it, and is refused while the doctor has
    appointments there."""
    doctor = await session.scalar(select(Doctor).where(Doctor.id == doctor_id).with_for_update())
    if doctor is None:
        raise NotFound("No doctor has that id.")
    stale: list[StaleDays] = []
    if not isinstance(changes.name, Keep):
        doctor.name = _not_blank(changes.name, "name")
    if not isinstance(changes.specialty, Keep):
        doctor.specialty = _not_blank(changes.specialty, "specialty")
    if not isinstance(changes.active, Keep) and changes.active != doctor.active:
        doctor.active = changes.active
        stale.append(StaleDays(doctor_id, every_day=True))
    if not isinstance(changes.clinic_ids, Keep):
        stale += await _set_clinics(session, doctor_id, set(changes.clinic_ids))
    await session.flush()
    return doctor, stale


async def _set_clinics(
    session: AsyncSession, doctor_id: uuid.UUID, wanted: set[uuid.UUID]
) -> list[StaleDays]:
    found = set(await session.scalars(select(Clinic.id).where(Clinic.id.in_(wanted))))
    if missing := wanted - found:
        raise BadUserInput(f"No clinic has the id {sorted(map(str, missing))[0]}.")
    current = set(
        await session.scalars(
            select(DoctorClinic.clinic_id).where(DoctorClinic.doctor_id == doctor_id)
        )
    )
    session.add_all(DoctorClinic(doctor_id=doctor_id, clinic_id=id_) for id_ in wanted - current)
    leaving = current - wanted
    if not leaving:
        await session.flush()
        return []
    weekdays = frozenset(
        await session.scalars(
            select(ScheduleTemplate.day_of_week).where(
                ScheduleTemplate.doctor_id == doctor_id, ScheduleTemplate.clinic_id.in_(leaving)
            )
        )
    )
    try:
        async with session.begin_nested():
            # The templates there go with the link (ON DELETE CASCADE).
            await session.execute(
                delete(DoctorClinic).where(
                    DoctorClinic.doctor_id == doctor_id, DoctorClinic.clinic_id.in_(leaving)
                )
            )
    except IntegrityError as error:
        if "fk_appointments_doctor_id_clinic_id_doctor_clinics" in str(error.orig):
            raise Conflict(
                "The doctor has appointments at a clinic being removed; bookings stay, "
                "so the clinic must too. Deactivate the doctor or remove their templates."
            ) from None
        raise
    return [StaleDays(doctor_id, weekdays=weekdays)] if weekdays else []


async def remove_template(session: AsyncSession, template_id: uuid.UUID) -> StaleDays:
    """Does not commit. Booked slots stay booked; the weekday offers no new ones."""
    template = await session.scalar(
        select(ScheduleTemplate).where(ScheduleTemplate.id == template_id).with_for_update()
    )
    if template is None:
        raise NotFound("No schedule template has that id.")
    await session.delete(template)
    await session.flush()
    return StaleDays(template.doctor_id, weekdays=frozenset({template.day_of_week}))


async def remove_exception(session: AsyncSession, exception_id: uuid.UUID) -> StaleDays:
    """Does not commit. The doctor is back: the slots of that time are offered again."""
    exception = await session.scalar(
        select(ScheduleException).where(ScheduleException.id == exception_id).with_for_update()
    )
    if exception is None:
        raise NotFound("No schedule exception has that id.")
    stale = await exception_stale_days(session, exception)
    await session.delete(exception)
    await session.flush()
    return stale


async def exception_stale_days(session: AsyncSession, exception: ScheduleException) -> StaleDays:
    """The doctor's dates an exception covers, in the zone of each clinic of theirs."""
    zones = await session.scalars(
        select(Clinic.timezone)
        .join(DoctorClinic, DoctorClinic.clinic_id == Clinic.id)
        .where(DoctorClinic.doctor_id == exception.doctor_id)
        .distinct()
    )
    dates: set[date] = set()
    for name in zones:
        dates |= local_dates(exception.starts_at, exception.ends_at, ZoneInfo(name))
    if len(dates) > MAX_STALE_DATES:
        return StaleDays(exception.doctor_id, every_day=True)
    return StaleDays(exception.doctor_id, dates=frozenset(dates))


def local_dates(start: datetime, end: datetime, zone: ZoneInfo) -> set[date]:
    """The dates in ``zone`` that the interval [start, end) touches."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}
