"""Offers: a freed slot goes to the earliest waiting entry whose window covers it, as a
hold for that patient, made in the transaction that freed it (so nobody else can take
it in between). An offer not accepted in time passes on to the next entry."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, WaitlistStatus
from db.models import (
    Appointment,
    Clinic,
    DoctorClinic,
    ScheduleException,
    SlotHold,
    WaitlistEntry,
)
from domain.administration import remove_exception
from domain.availability import load_doctor_days
from domain.booking import slot_at
from domain.holds import add_hold
from domain.outbox import Topic, announce
from domain.timezones import stored_zone
from services.errors import BadUserInput, SlotUnavailable
from services.slot_cache import DayKey, StaleDays

# Dates of a removed exception looked at for offers; waitlist windows are shorter.
MAX_OFFER_DAYS = 62


@dataclass(frozen=True, slots=True)
class FreedSlot:
    doctor_id: uuid.UUID
    clinic_id: uuid.UUID
    starts_at: datetime


class OfferNotDue(Exception):
    """The offer has not expired yet by the domain's clock (a job ran early)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"offer expires in {seconds:.0f}s")
        self.seconds = seconds


def _patient_busy(starts_at: datetime, ends_at: datetime) -> Exists:
    return exists().where(
        Appointment.patient_id == WaitlistEntry.patient_id,
        Appointment.status == AppointmentStatus.SCHEDULED,
        Appointment.starts_at < ends_at,
        Appointment.ends_at > starts_at,
    )


async def offer_freed_slot(
    session: AsyncSession, freed: FreedSlot, now: datetime, minutes: int
) -> WaitlistEntry | None:
    """Offers the slot to the earliest waiting entry whose window covers it (its patient
    free then), if it is still a slot anyone could book; returns that entry. Entries
    locked by a concurrent offer are skipped: two slots freed at once go to two
    entries. Does not commit."""
    try:
        starts_at, ends_at = await slot_at(
            session, freed.doctor_id, freed.clinic_id, freed.starts_at, now
        )
    except (SlotUnavailable, BadUserInput):
        return None  # in the past, the doctor away, or no longer in the schedule
    entry = await session.scalar(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.doctor_id == freed.doctor_id,
            WaitlistEntry.clinic_id == freed.clinic_id,
            WaitlistEntry.window_from <= starts_at,
            WaitlistEntry.window_to >= ends_at,
            ~_patient_busy(starts_at, ends_at),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if entry is None:
        return None
    expires_at = now + timedelta(minutes=minutes)
    hold = SlotHold(
        patient_id=entry.patient_id,
        doctor_id=freed.doctor_id,
        clinic_id=freed.clinic_id,
        starts_at=starts_at,
        ends_at=ends_at,
        expires_at=expires_at,
        waitlist_entry_id=entry.id,
        created_at=now,
    )
    try:
        await add_hold(session, hold, now)
    except SlotUnavailable:
        return None  # someone holds or booked it already: it was not free after all
    entry.status = WaitlistStatus.OFFERED
    entry.offered_at, entry.offer_expires_at = now, expires_at
    entry.offer_starts_at, entry.offer_ends_at = starts_at, ends_at
    entry.updated_at = now
    announce(session, Topic.WAITLIST_OFFERED, {"entry_id": str(entry.id)})
    announce(
        session,
        Topic.WAITLIST_OFFER_EXPIRED,
        {"entry_id": str(entry.id)},
        available_at=expires_at,
    )
    await session.flush()
    return entry


async def end_offer(
    session: AsyncSession, entry: WaitlistEntry, status: WaitlistStatus, now: datetime, minutes: int
) -> WaitlistEntry | None:
    """Ends the entry's offer (EXPIRED, or LEFT when declined), releases its hold and
    offers the slot to the next entry, which it returns. Does not commit."""
    entry.status, entry.updated_at = status, now
    await session.execute(
        delete(SlotHold)
        .where(SlotHold.waitlist_entry_id == entry.id)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    assert entry.offer_starts_at is not None  # OFFERED entries have an offer (a CHECK)
    return await offer_freed_slot(
        session, FreedSlot(entry.doctor_id, entry.clinic_id, entry.offer_starts_at), now, minutes
    )


async def expire_offer(
    session: AsyncSession, entry_id: uuid.UUID, now: datetime, minutes: int
) -> tuple[WaitlistEntry, WaitlistEntry | None] | None:
    """The expiry job's work: the entry EXPIRED and its slot offered to the next one.
    None when the offer was already answered or passed on (the job ran before, or the
    patient accepted or left): safe to run any number of times. Does not commit."""
    entry = await session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.id == entry_id).with_for_update()
    )
    if entry is None or entry.status is not WaitlistStatus.OFFERED:
        return None
    assert entry.offer_expires_at is not None
    if entry.offer_expires_at > now:
        raise OfferNotDue((entry.offer_expires_at - now).total_seconds())
    return entry, await end_offer(session, entry, WaitlistStatus.EXPIRED, now, minutes)


async def offer_freed_between(
    session: AsyncSession,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    minutes: int,
) -> list[WaitlistEntry]:
    """Offers the doctor's free slots in [start, end), e.g. once an exception is gone,
    earliest first, each to the next waiting entry. Costs one statement when nobody
    waits for that doctor then. Does not commit."""
    window = await session.execute(
        select(func.min(WaitlistEntry.window_from), func.max(WaitlistEntry.window_to)).where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.doctor_id == doctor_id,
            WaitlistEntry.window_to > max(start, now),
            WaitlistEntry.window_from < end,
        )
    )
    earliest, latest = window.one()
    if earliest is None or latest is None:
        return []
    start, end = max(start, now, earliest), min(end, latest)
    end = min(end, start + timedelta(days=MAX_OFFER_DAYS))
    zones = (
        await session.scalars(
            select(Clinic.timezone)
            .join(DoctorClinic, DoctorClinic.clinic_id == Clinic.id)
            .where(DoctorClinic.doctor_id == doctor_id)
            .distinct()
        )
    ).all()
    dates = sorted(
        {
            start.astimezone(zone).date() + timedelta(days=n)
            for zone in map(stored_zone, zones)
            for n in range((end - start).days + 2)
        }
    )
    keys = [DayKey(doctor_id, day, None) for day in dates]
    days = await load_doctor_days(session, keys, holds_at=now)
    free = sorted(
        {
            (slot.starts_at, slot.clinic_id)
            for key in keys
            for slot in days[key].slots(key.date)
            if slot.available and start <= slot.starts_at and slot.ends_at <= end
        }
    )
    offered = []
    for starts_at, clinic_id in free:
        entry = await offer_freed_slot(
            session, FreedSlot(doctor_id, clinic_id, starts_at), now, minutes
        )
        if entry is not None:
            offered.append(entry)
    return offered


async def remove_exception_and_offer(
    session: AsyncSession, exception_id: uuid.UUID, now: datetime, minutes: int
) -> tuple[StaleDays, list[WaitlistEntry]]:
    """Removes the exception; the doctor is back, and the slots of that time go to those
    waiting for them first. Does not commit."""
    period = (
        await session.execute(
            select(
                ScheduleException.doctor_id,
                ScheduleException.starts_at,
                ScheduleException.ends_at,
            ).where(ScheduleException.id == exception_id)
        )
    ).one_or_none()
    stale = await remove_exception(session, exception_id)  # NOT_FOUND without one
    assert period is not None
    return stale, await offer_freed_between(session, *period, now=now, minutes=minutes)
