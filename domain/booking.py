"""Booking a slot. PostgreSQL's exclusion constraints decide who gets it.

In the common case nothing is asked of PostgreSQL before the INSERT: the slot is
checked against the day the slot cache holds (the one the patient just looked at) with
the clinic's zone from the clinic directory, and the idempotency key is checked by the
INSERT itself (``ON CONFLICT DO NOTHING``, with every unique and exclusion constraint
as its arbiter). A day not cached costs one statement more; a key seen before, or a
refusal, a few more.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.enums import AppointmentStatus, Role
from db.ids import uuid7
from db.models import Appointment, Clinic, DoctorClinic
from db.request_sessions import RequestSessions
from domain.audit import AuditTrail, appointment_changed, auditing
from domain.availability import load_doctor_days
from domain.caller import Caller
from domain.clock import clock
from domain.day_slots import DaySlots
from domain.outbox import Topic, announcing
from domain.slot_claims import clear_expired, use_hold
from domain.timezones import stored_zone
from services.clinic_directory import ClinicDirectory
from services.errors import BadUserInput, Conflict, Forbidden, SlotUnavailable
from services.slot_cache import DayKey, SlotCache, StaleDays
from services.tracing import current_trace_parent

MAX_REASON_LENGTH = 2000
SLOT_TAKEN = "Sorry, that time was just taken. Please choose another slot."
PATIENT_BUSY = "The patient already has an appointment at that time."
KEY_REUSED = (
    "This idempotencyKey was already used for a different booking; "
    "send a new key with a new request."
)


@dataclass(frozen=True, slots=True)
class BookingRequest:
    doctor_id: uuid.UUID
    clinic_id: uuid.UUID
    starts_at: datetime
    reason: str | None = None
    patient_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    # The patient's hold of this slot (holdSlot), turned into the booking.
    hold_id: uuid.UUID | None = None


def patient_to_book_for(caller: Caller, requested: uuid.UUID | None) -> uuid.UUID:
    if caller.role is Role.ADMIN:
        if requested is None:
            raise BadUserInput("Administrators must name the patient (`patientId`).")
        return requested
    if caller.role is not Role.PATIENT or caller.patient_id is None:
        raise Forbidden("Only patients and administrators may book appointments.")
    if requested is not None and requested != caller.patient_id:
        raise Forbidden("Only administrators may book for another patient.")
    return caller.patient_id


async def clinic_zone_of(
    session: AsyncSession, doctor_id: uuid.UUID, clinic_id: uuid.UUID
) -> ZoneInfo:
    timezone = await session.scalar(
        select(Clinic.timezone)
        .join(DoctorClinic, DoctorClinic.clinic_id == Clinic.id)
        .where(DoctorClinic.doctor_id == doctor_id, Clinic.id == clinic_id)
    )
    if timezone is None:
        raise BadUserInput("That doctor does not work at that clinic.")
    return ZoneInfo(timezone)


async def slot_at(
    session: AsyncSession,
    doctor_id: uuid.UUID,
    clinic_id: uuid.UUID,
    starts_at: datetime,
    now: datetime,
) -> tuple[datetime, datetime]:
    """The (start, end) of the slot that starts at ``starts_at``, if it may be booked
    now; otherwise SLOT_UNAVAILABLE saying why. Whether someone else holds it is left
    to the database."""
    if starts_at.tzinfo is None:
        raise BadUserInput("`startsAt` needs a UTC offset, e.g. 2026-03-02T09:00:00-05:00.")
    zone = await clinic_zone_of(session, doctor_id, clinic_id)
    local_date = starts_at.astimezone(zone).date()
    key = DayKey(doctor_id, local_date, clinic_id)
    day = (await load_doctor_days(session, [key]))[key]
    slot = day.find(local_date, clinic_id, starts_at)
    if slot is None:
        raise SlotUnavailable("That time is not a slot of the doctor's schedule at this clinic.")
    if slot[0] <= now:
        raise SlotUnavailable("That slot is in the past.")
    if day.is_away(*slot):
        raise SlotUnavailable("The doctor is away at that time.")
    return slot


async def cached_slot_at(
    session: AsyncSession,
    days: SlotCache,
    clinics: ClinicDirectory,
    *,
    doctor_id: uuid.UUID,
    clinic_id: uuid.UUID,
    starts_at: datetime,
    now: datetime,
) -> tuple[datetime, datetime]:
    """:func:`slot_at`, from the cached day when it offers that slot free: no statement.
    Not cached (or not free there): the day from PostgreSQL, in the zone the clinic
    directory knows, one statement. Anything refused (taken, away, not a slot, not the
    doctor's clinic, an unknown clinic) is decided again by :func:`slot_at`, whose
    answers say exactly why."""
    if starts_at.tzinfo is None:
        raise BadUserInput("`startsAt` needs a UTC offset, e.g. 2026-03-02T09:00:00-05:00.")
    clinic = (await clinics.get_many([clinic_id])).get(clinic_id)
    if clinic is None:
        return await slot_at(session, doctor_id, clinic_id, starts_at, now)
    local_date = starts_at.astimezone(stored_zone(clinic.timezone)).date()
    # The day as availableSlots cached it, for that clinic or for all of the doctor's;
    # also one made stale only by bookings since: its slot grid and time away are
    # current, and whether the time is taken is the exclusion constraints' to decide.
    keys = [DayKey(doctor_id, local_date, clinic_id), DayKey(doctor_id, local_date, None)]
    read = await days.read(keys)
    for cached in (*read.hits.values(), *read.schedules.values()):
        slot = DaySlots.decode(cached).free_at(clinic_id, starts_at)
        if slot is not None:
            if slot[0] <= now:
                raise SlotUnavailable("That slot is in the past.")
            return slot
    day = (await load_doctor_days(session, keys[:1]))[keys[0]]
    found = day.find(local_date, clinic_id, starts_at)
    if found is not None and found[0] > now and not day.is_away(*found):
        return found
    return await slot_at(session, doctor_id, clinic_id, starts_at, now)


def stale_days_of(appointment: Appointment) -> StaleDays:
    """The cached days a booking changes: its dates wherever the doctor works. An instant
    is at most a day away from its UTC date in any zone (UTC-12 to UTC+14), so the UTC
    dates of its start and end, each with the day before and after, cover them without
    asking which zones the doctor's clinics are in. Other days stay cached: the next
    booking of the same doctor on another day still finds its slot there."""
    dates = {
        moment.astimezone(UTC).date() + timedelta(days=shift)
        for moment in (appointment.starts_at, appointment.ends_at)
        for shift in (-1, 0, 1)
    }
    return StaleDays(appointment.doctor_id, dates=frozenset(dates), bookings_only=True)


def overlap_error(error: IntegrityError) -> SlotUnavailable | None:
    message = str(error.orig)
    # The second: the time is held (or booked) by someone else (domain.slot_claims).
    if "ex_appointments_doctor_no_overlap" in message or "ex_slot_claims_doctor" in message:
        return SlotUnavailable(SLOT_TAKEN)
    if "ex_appointments_patient_no_overlap" in message:
        return SlotUnavailable(PATIENT_BUSY)
    return None


async def _why_taken(
    session: AsyncSession,
    doctor_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
) -> SlotUnavailable:
    """Which booking took the time: the doctor's (the slot is gone) or the patient's own."""
    overlapping = (
        Appointment.status == AppointmentStatus.SCHEDULED,
        Appointment.starts_at < ends_at,
        Appointment.ends_at > starts_at,
    )
    patient_busy = await session.scalar(
        select(
            exists().where(Appointment.patient_id == patient_id, *overlapping)
            & ~exists().where(Appointment.doctor_id == doctor_id, *overlapping)
        )
    )
    return SlotUnavailable(PATIENT_BUSY if patient_busy else SLOT_TAKEN)


# The values a booking gives; the rest are the columns' defaults.
_BOOKED_COLUMNS = (
    "id", "patient_id", "doctor_id", "clinic_id", "starts_at", "ends_at", "reason",
    "idempotency_key", "booked_by_user_id", "created_at", "updated_at",
)  # fmt: skip
_BOOKED = (
    insert(Appointment)
    .values({name: bindparam(name) for name in _BOOKED_COLUMNS})
    .on_conflict_do_nothing()
    .returning(*Appointment.__table__.c)
    .cte("booked")
)
BOOK_ACTION = "appointment.book"
# Built once (statement construction costs more than the round trip): the appointment
# and its APPOINTMENT_BOOKED message in one statement, the message only if it was booked;
# for a booking made on a request, its audit row as well.
_ANNOUNCED = announcing(_BOOKED, Topic.APPOINTMENT_BOOKED, "appointment_id")
_AUDITED = auditing(_BOOKED, BOOK_ACTION, "Appointment")
_INSERT_UNLESS_TAKEN = select(aliased(Appointment, _BOOKED)).add_cte(_ANNOUNCED)
_INSERT_AUDITED_UNLESS_TAKEN = _INSERT_UNLESS_TAKEN.add_cte(_AUDITED)
# The same, as Core rows: a booking in one statement goes straight to asyncpg
# (RequestSessions.execute_atomic), without the session's cost.
_APPOINTMENT_ATTRIBUTES = tuple(column.key for column in _BOOKED.c)
_INSERT_ROW_UNLESS_TAKEN = select(*_BOOKED.c).add_cte(_ANNOUNCED)
_INSERT_AUDITED_ROW_UNLESS_TAKEN = _INSERT_ROW_UNLESS_TAKEN.add_cte(_AUDITED)


class _HeldThere(Exception):
    """A hold's claim refused the booking, and expired holds were not cleared first."""


async def _insert_unless_taken(
    session: AsyncSession,
    values: dict[str, object],
    audit: AuditTrail | None,
    *,
    expired_cleared: bool,
    alone: RequestSessions | None,
) -> Appointment | None:
    """The new appointment, or None when a booking of the doctor, of the patient or
    with the same idempotency key stands in the way.

    ON CONFLICT makes the insert speculative: PostgreSQL checks the unique and
    exclusion constraints before inserting and waits for a racer holding the slot or
    the key. A plain insert checks after inserting, so two racers can each wait for
    the other until the deadlock detector aborts one a second later; a crowd racing
    for one slot then queues up past the statement timeout.

    With ``alone`` (the statement is the whole booking), it is committed by itself on
    the request's connection, and the appointment built from its row."""
    if audit is not None:
        values = values | audit.statement_parameters()
    try:
        if alone is None:
            statement = _INSERT_AUDITED_UNLESS_TAKEN if audit else _INSERT_UNLESS_TAKEN
            return await session.scalar(statement, values)
        rows = await alone.execute_atomic(
            _INSERT_AUDITED_ROW_UNLESS_TAKEN if audit else _INSERT_ROW_UNLESS_TAKEN,
            values,
            beside=session,  # holding the connection if the day was not cached
        )
        return (
            Appointment(**dict(zip(_APPOINTMENT_ATTRIBUTES, rows[0], strict=True)))
            if rows
            else None
        )
    except IntegrityError as error:
        if "fk_appointments_patient_id_patients" in str(error.orig):
            raise BadUserInput("No patient has that id.") from None
        if "ex_slot_claims_doctor_no_overlap" in str(error.orig):
            # A hold has the time (domain.slot_claims); the transaction is over.
            if not expired_cleared:
                raise _HeldThere from None
            raise SlotUnavailable(SLOT_TAKEN) from None
        raise


async def book_and_commit(
    sessions: RequestSessions,
    caller: Caller,
    request: BookingRequest,
    *,
    days: SlotCache,
    clinics: ClinicDirectory,
    audit: AuditTrail,
) -> Appointment:
    """:func:`book`, committed, audited in ``audit``. Expired holds almost never lie in
    the way, so the first try does not delete them first (a statement every booking
    would pay for nothing): the booking is then one statement, atomic by itself, sent
    without BEGIN and COMMIT around it. When a hold's claim refuses the insert, the
    booking is tried once more, taking over the expired holds on its time, in a
    transaction."""
    for expired_cleared in (request.hold_id is not None, True):
        in_one_statement = request.hold_id is None and not expired_cleared
        try:
            async with (
                sessions.atomic_statements() if in_one_statement else sessions.begin()
            ) as session:
                return await book(
                    session, caller, request, days=days, clinics=clinics, audit=audit,
                    clear_expired_first=expired_cleared,
                    alone=sessions if in_one_statement else None,
                )  # fmt: skip
        except _HeldThere:
            continue
    raise AssertionError("the second try clears expired holds first")


async def book(
    session: AsyncSession,
    caller: Caller,
    request: BookingRequest,
    *,
    days: SlotCache,
    clinics: ClinicDirectory,
    audit: AuditTrail | None = None,
    clear_expired_first: bool = True,
    alone: RequestSessions | None = None,
) -> Appointment:
    """Books the slot, or returns the appointment an earlier call with the same
    idempotency key made for the same request (CONFLICT for another). Does not commit.
    With ``audit`` (a booking asked for by a request, not one made by another change),
    the booking's audit row goes in its own statement, a replay's into the trail.
    Without ``clear_expired_first``, a hold met on the time, expired or not, raises
    :class:`_HeldThere` (:func:`book_and_commit` tries again). With ``alone``, the
    INSERT is the booking's only change and commits by itself there."""
    patient_id = patient_to_book_for(caller, request.patient_id)
    if request.reason is not None and len(request.reason) > MAX_REASON_LENGTH:
        raise BadUserInput(f"`reason` is longer than {MAX_REASON_LENGTH} characters.")
    now = clock.now()
    starts_at, ends_at = await cached_slot_at(
        session,
        days,
        clinics,
        doctor_id=request.doctor_id,
        clinic_id=request.clinic_id,
        starts_at=request.starts_at,
        now=now,
    )
    if request.hold_id is not None:
        await use_hold(
            session,
            caller,
            request.hold_id,
            patient_id,
            (request.doctor_id, request.clinic_id, starts_at),
        )
    if clear_expired_first:
        await clear_expired(session, request.doctor_id, starts_at, ends_at, now)
    values = {
        "id": uuid7(),
        "patient_id": patient_id,
        "doctor_id": request.doctor_id,
        "clinic_id": request.clinic_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": request.reason,
        "idempotency_key": request.idempotency_key,
        "booked_by_user_id": caller.user_id,
        "created_at": now,
        "updated_at": now,
        "trace_parent": current_trace_parent(),
    }
    appointment = await _insert_unless_taken(
        session, values, audit, expired_cleared=clear_expired_first, alone=alone
    )
    if appointment is None:
        # What stopped it has committed (PostgreSQL waited for it), so it is visible.
        if request.idempotency_key is not None:
            earlier = await _booked_with_key(session, caller, request.idempotency_key)
            if earlier is not None:
                replayed = _replayed(earlier, request, patient_id)
                if audit is not None:
                    appointment_changed(audit, BOOK_ACTION, replayed)
                return replayed
        raise await _why_taken(session, request.doctor_id, patient_id, starts_at, ends_at)
    return appointment


async def _booked_with_key(session: AsyncSession, caller: Caller, key: str) -> Appointment | None:
    return await session.scalar(
        select(Appointment).where(
            Appointment.booked_by_user_id == caller.user_id, Appointment.idempotency_key == key
        )
    )


def _replayed(earlier: Appointment, request: BookingRequest, patient_id: uuid.UUID) -> Appointment:
    """The booking a key made, if this request asks for the same one (as Stripe does).

    Compared with the booking as it is now: one moved since by rescheduleAppointment
    no longer matches its first startsAt, so a late retry gets CONFLICT, and still
    nothing is booked twice."""
    asked = (request.doctor_id, request.clinic_id, patient_id, request.starts_at, request.reason)
    made = (
        earlier.doctor_id,
        earlier.clinic_id,
        earlier.patient_id,
        earlier.starts_at,
        earlier.reason,
    )
    if asked != made:
        raise Conflict(KEY_REUSED)
    return earlier
