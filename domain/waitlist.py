"""The waitlist: a patient waits for a slot of one doctor at one clinic within a window,
is offered one when it frees (domain.waitlist_offers), and accepts or leaves."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import WaitlistStatus
from db.models import Appointment, Doctor, SlotHold, WaitlistEntry
from domain.booking import BookingRequest, book, clinic_zone_of
from domain.caller import Caller
from domain.clock import clock
from domain.holds import patient_acting_for
from domain.waitlist_offers import end_offer
from services.clinic_directory import ClinicDirectory
from services.errors import BadUserInput, Conflict, Forbidden, NotFound
from services.slot_cache import SlotCache

MAX_WINDOW_DAYS = 31
# Entries waiting or offered at once, per patient.
MAX_OPEN_ENTRIES = 10
# Patient.waitlist lists this many, newest first (README "Limits").
MAX_LISTED = 50
NOT_YOUR_ENTRY = "You have no waitlist entry with that id."
NO_SUCH_ENTRY = "No waitlist entry has that id."
_OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


@dataclass(frozen=True, slots=True)
class WaitlistRequest:
    doctor_id: uuid.UUID
    clinic_id: uuid.UUID
    window_from: datetime
    window_to: datetime
    patient_id: uuid.UUID | None = None


def shown_status(entry: WaitlistEntry, now: datetime) -> WaitlistStatus:
    """The status as of ``now``: a window that has passed, or an offer whose time ran
    out, is EXPIRED at once, before any job has looked at it."""
    if entry.status is WaitlistStatus.WAITING and entry.window_to <= now:
        return WaitlistStatus.EXPIRED
    offer_over = entry.offer_expires_at is not None and entry.offer_expires_at <= now
    if entry.status is WaitlistStatus.OFFERED and offer_over:
        return WaitlistStatus.EXPIRED
    return entry.status


async def join(session: AsyncSession, caller: Caller, request: WaitlistRequest) -> WaitlistEntry:
    """A new WAITING entry. Does not commit."""
    patient_id = patient_acting_for(caller, request.patient_id, "join waitlists")
    start, end = request.window_from, request.window_to
    if start.tzinfo is None or end.tzinfo is None:
        raise BadUserInput("`from` and `to` need a UTC offset.")
    if end <= start:
        raise BadUserInput("`to` must be after `from`.")
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise BadUserInput(f"`from` and `to` may be at most {MAX_WINDOW_DAYS} days apart.")
    now = clock.now()
    if end <= now:
        raise BadUserInput("`to` has passed already.")
    await clinic_zone_of(session, request.doctor_id, request.clinic_id)
    if not await session.scalar(select(Doctor.active).where(Doctor.id == request.doctor_id)):
        raise BadUserInput("That doctor is not taking appointments.")
    open_entries = await session.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(WaitlistEntry.patient_id == patient_id, WaitlistEntry.status.in_(_OPEN))
    )
    if (open_entries or 0) >= MAX_OPEN_ENTRIES:
        raise BadUserInput(
            f"A patient may wait on at most {MAX_OPEN_ENTRIES} waitlists at once; leave one first."
        )
    entry = WaitlistEntry(
        patient_id=patient_id,
        doctor_id=request.doctor_id,
        clinic_id=request.clinic_id,
        window_from=start,
        window_to=end,
        status=WaitlistStatus.WAITING,
        created_by_user_id=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError as error:
        if "fk_waitlist_entries_patient_id_patients" in str(error.orig):
            raise BadUserInput("No patient has that id.") from None
        raise
    return entry


async def _locked_entry(
    session: AsyncSession, caller: Caller, entry_id: uuid.UUID
) -> WaitlistEntry:
    """The entry, locked, if the caller is its patient or an admin."""
    entry = await session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.id == entry_id).with_for_update()
    )
    if entry is None:
        raise NotFound(NO_SUCH_ENTRY) if caller.is_admin else Forbidden(NOT_YOUR_ENTRY)
    if not (caller.is_admin or entry.patient_id == caller.patient_id):
        raise Forbidden(NOT_YOUR_ENTRY)
    return entry


@dataclass(frozen=True, slots=True)
class Left:
    entry: WaitlistEntry
    changed: bool  # False: it had ended already (booked, expired or left)
    offered_next: WaitlistEntry | None  # who the declined offer went to


async def leave(
    session: AsyncSession, caller: Caller, entry_id: uuid.UUID, offer_minutes: int
) -> Left:
    """WAITING or OFFERED -> LEFT; a declined offer passes on at once. Does not commit."""
    entry = await _locked_entry(session, caller, entry_id)
    now = clock.now()
    if entry.status is WaitlistStatus.WAITING:
        entry.status, entry.updated_at = WaitlistStatus.LEFT, now
        await session.flush()
        return Left(entry, True, None)
    if entry.status is WaitlistStatus.OFFERED:
        following = await end_offer(session, entry, WaitlistStatus.LEFT, now, offer_minutes)
        return Left(entry, True, following)
    return Left(entry, False, None)


async def accept(
    session: AsyncSession,
    caller: Caller,
    entry_id: uuid.UUID,
    *,
    days: SlotCache,
    clinics: ClinicDirectory,
) -> tuple[WaitlistEntry, Appointment]:
    """Books the offered slot for the entry's patient: the offer's hold becomes the
    appointment in this transaction, and the entry BOOKED. Does not commit."""
    entry = await _locked_entry(session, caller, entry_id)
    now = clock.now()
    if shown_status(entry, now) is not WaitlistStatus.OFFERED:
        if entry.status is WaitlistStatus.OFFERED:
            raise Conflict("This offer has expired.")
        raise Conflict(f"This entry has no open offer; it is {entry.status.value}.")
    assert entry.offer_starts_at is not None
    hold = await session.scalar(
        select(SlotHold).where(SlotHold.waitlist_entry_id == entry.id).with_for_update()
    )
    if hold is None:  # a live offer keeps its hold; this guards the invariant, not a case
        raise Conflict("This offer has expired.")
    await session.delete(hold)
    await session.flush()
    appointment = await book(
        session,
        caller,
        BookingRequest(
            doctor_id=entry.doctor_id,
            clinic_id=entry.clinic_id,
            starts_at=entry.offer_starts_at,
            patient_id=entry.patient_id,
        ),
        days=days,
        clinics=clinics,
    )
    entry.status, entry.appointment_id, entry.updated_at = (
        WaitlistStatus.BOOKED,
        appointment.id,
        now,
    )
    await session.flush()
    return entry, appointment


async def patient_waitlist(
    session: AsyncSession, patient_id: uuid.UUID, doctor_id: uuid.UUID | None
) -> Sequence[WaitlistEntry]:
    """The patient's entries, newest first, at most MAX_LISTED; only those with
    ``doctor_id`` when given."""
    query = (
        select(WaitlistEntry)
        .where(WaitlistEntry.patient_id == patient_id)
        .order_by(WaitlistEntry.created_at.desc(), WaitlistEntry.id.desc())
        .limit(MAX_LISTED)
    )
    if doctor_id is not None:
        query = query.where(WaitlistEntry.doctor_id == doctor_id)
    return (await session.scalars(query)).all()
