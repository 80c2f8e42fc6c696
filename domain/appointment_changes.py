"""Cancel, reschedule and close appointments: legal status changes only."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, Role
from db.models import Appointment, Clinic
from domain.booking import MAX_REASON_LENGTH, overlap_error, slot_at
from domain.caller import Caller
from domain.clock import clock
from domain.outbox import Topic, announce
from domain.savepoints import flush_guarded
from domain.slot_claims import clear_expired
from services.errors import BadUserInput, Conflict, Forbidden, NotFound

NOT_YOURS = "You may not change this appointment."
NO_SUCH_APPOINTMENT = "No appointment has that id."


async def _locked(session: AsyncSession, caller: Caller, appointment_id: uuid.UUID) -> Appointment:
    """The appointment, locked. Admins, who may see every appointment, learn that an id
    is unknown; anyone else is refused as if it existed."""
    appointment = await session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )
    if appointment is None:
        raise NotFound(NO_SUCH_APPOINTMENT) if caller.is_admin else Forbidden(NOT_YOURS)
    return appointment


async def _for_patient_change(
    session: AsyncSession, caller: Caller, appointment_id: uuid.UUID
) -> Appointment:
    """The appointment, locked, if the caller is its patient or an admin."""
    appointment = await _locked(session, caller, appointment_id)
    owner = caller.patient_id is not None and appointment.patient_id == caller.patient_id
    if not (owner or caller.is_admin):
        raise Forbidden(NOT_YOURS)
    return appointment


def _still_ahead(appointment: Appointment, action: str, now: datetime) -> None:
    if appointment.status is not AppointmentStatus.SCHEDULED:
        raise Conflict(
            f"Only a scheduled appointment can be {action}; this one is {appointment.status.value}."
        )
    if appointment.starts_at <= now:
        raise Conflict(f"This appointment has already started and can no longer be {action}.")


async def _outside_cutoff(
    session: AsyncSession, caller: Caller, appointment: Appointment, action: str, now: datetime
) -> None:
    """Patients may not change an appointment within its clinic's cutoff; staff may."""
    if caller.is_admin:
        return
    hours = await session.scalar(
        select(Clinic.cancellation_cutoff_hours).where(Clinic.id == appointment.clinic_id)
    )
    if hours and appointment.starts_at - now < timedelta(hours=hours):
        raise Conflict(
            f"This appointment starts within {hours} hours and can no longer be {action} "
            "online; please call the clinic."
        )


async def cancel(
    session: AsyncSession, caller: Caller, appointment_id: uuid.UUID, reason: str | None
) -> Appointment:
    """SCHEDULED -> CANCELLED; the slot is free the moment this commits. Does not commit."""
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise BadUserInput(f"`reason` is longer than {MAX_REASON_LENGTH} characters.")
    appointment = await _for_patient_change(session, caller, appointment_id)
    now = clock.now()
    _still_ahead(appointment, "cancelled", now)
    await _outside_cutoff(session, caller, appointment, "cancelled", now)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancellation_reason = reason
    appointment.updated_at = now
    announce(session, Topic.APPOINTMENT_CANCELLED, {"appointment_id": str(appointment.id)})
    await session.flush()
    return appointment


async def reschedule(
    session: AsyncSession, caller: Caller, appointment_id: uuid.UUID, starts_at: datetime
) -> tuple[Appointment, datetime]:
    """Moves the appointment to another slot of the same doctor and clinic, in one
    transaction: the new time is taken and the old one freed together, or nothing
    changes. Returns the appointment and its previous start. Does not commit."""
    appointment = await _for_patient_change(session, caller, appointment_id)
    now = clock.now()
    _still_ahead(appointment, "rescheduled", now)
    await _outside_cutoff(session, caller, appointment, "rescheduled", now)
    previous_start = appointment.starts_at
    new_start, new_end = await slot_at(
        session, appointment.doctor_id, appointment.clinic_id, starts_at, now
    )
    await clear_expired(session, appointment.doctor_id, new_start, new_end, now)

    def move() -> None:
        appointment.starts_at, appointment.ends_at = new_start, new_end
        appointment.updated_at = now

    try:
        await flush_guarded(session, move)
    except IntegrityError as error:
        raise overlap_error(error) or error from None
    announce(
        session,
        Topic.APPOINTMENT_RESCHEDULED,
        {"appointment_id": str(appointment.id), "previous_starts_at": previous_start.isoformat()},
    )
    return appointment, previous_start


CLOSING_STATUSES = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


async def set_status(
    session: AsyncSession, caller: Caller, appointment_id: uuid.UUID, status: AppointmentStatus
) -> Appointment:
    """A doctor (their own appointments) or an admin closes an appointment once it has
    started. Does not commit."""
    if status not in CLOSING_STATUSES:
        raise BadUserInput("`status` must be COMPLETED or NO_SHOW.")
    appointment = await _locked(session, caller, appointment_id)
    if not (
        caller.is_admin
        or (caller.role is Role.DOCTOR and appointment.doctor_id == caller.doctor_id)
    ):
        raise Forbidden(NOT_YOURS)
    if appointment.status is not AppointmentStatus.SCHEDULED:
        raise Conflict(
            f"Only a scheduled appointment can be marked {status.value}; "
            f"this one is {appointment.status.value}."
        )
    now = clock.now()
    if appointment.starts_at > now:
        raise Conflict(f"An appointment cannot be marked {status.value} before it starts.")
    appointment.status, appointment.updated_at = status, now
    await session.flush()
    return appointment
