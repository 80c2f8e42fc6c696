"""Holds: a slot kept for one patient for a few minutes, while they finish booking.
How PostgreSQL keeps them apart from appointments and from each other, and how an
expired one stops counting with no job: ``domain.slot_claims``."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, Role
from db.models import Appointment, SlotHold
from domain.booking import PATIENT_BUSY, SLOT_TAKEN, slot_at
from domain.caller import Caller
from domain.clock import clock
from domain.outbox import Topic, announce
from domain.savepoints import flush_guarded
from domain.slot_claims import claimed, clear_expired, locked_hold
from services.errors import BadUserInput, Conflict, Forbidden, SlotUnavailable

HOLDING_ELSEWHERE = "Another request of yours is holding a slot right now; try again."


@dataclass(frozen=True, slots=True)
class HoldRequest:
    doctor_id: uuid.UUID
    clinic_id: uuid.UUID
    starts_at: datetime
    patient_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class NewHold:
    hold: SlotHold
    # The patient's earlier hold, given up for this one (a patient holds one slot).
    replaced: list[SlotHold]


def patient_acting_for(caller: Caller, requested: uuid.UUID | None, action: str) -> uuid.UUID:
    """The patient a hold or waitlist entry is for: the caller, or the patient an
    administrator names."""
    if caller.is_admin:
        if requested is None:
            raise BadUserInput("Administrators must name the patient (`patientId`).")
        return requested
    if caller.role is not Role.PATIENT or caller.patient_id is None:
        raise Forbidden(f"Only patients and administrators may {action}.")
    if requested is not None and requested != caller.patient_id:
        raise Forbidden(f"Only administrators may {action} for another patient.")
    return caller.patient_id


def claim_error(error: IntegrityError) -> Exception | None:
    """What a refused hold means to the caller, for the constraints holds can break."""
    message = str(error.orig)
    if "ex_slot_claims_doctor_no_overlap" in message:
        return SlotUnavailable(SLOT_TAKEN)
    if "uq_slot_holds_patient_id" in message:
        return Conflict(HOLDING_ELSEWHERE)
    if "fk_slot_holds_patient_id_patients" in message:
        return BadUserInput("No patient has that id.")
    return None


async def add_hold(session: AsyncSession, hold: SlotHold, now: datetime) -> None:
    """Inserts ``hold`` over any expired holds of its time; SLOT_UNAVAILABLE when a live
    hold or an appointment has it. The rest of the transaction stays usable."""
    if await claimed(session, hold.doctor_id, hold.starts_at, hold.ends_at, now):
        raise SlotUnavailable(SLOT_TAKEN)
    await clear_expired(session, hold.doctor_id, hold.starts_at, hold.ends_at, now)
    try:
        await flush_guarded(session, lambda: session.add(hold))
    except IntegrityError as error:
        raise claim_error(error) or error from None


async def hold_slot(
    session: AsyncSession, caller: Caller, request: HoldRequest, minutes: int
) -> NewHold:
    """Holds the slot for the patient for ``minutes``, giving up their earlier hold (in
    the same transaction: if this one fails, that one stays). Does not commit."""
    patient_id = patient_acting_for(caller, request.patient_id, "hold slots")
    now = clock.now()
    starts_at, ends_at = await slot_at(
        session, request.doctor_id, request.clinic_id, request.starts_at, now
    )
    replaced = list(
        (
            await session.scalars(
                delete(SlotHold)
                .where(SlotHold.patient_id == patient_id, SlotHold.waitlist_entry_id.is_(None))
                .returning(SlotHold)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    busy = await session.scalar(
        select(Appointment.id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.starts_at < ends_at,
            Appointment.ends_at > starts_at,
        )
        .limit(1)
    )
    if busy is not None:
        raise SlotUnavailable(PATIENT_BUSY)
    hold = SlotHold(
        patient_id=patient_id,
        doctor_id=request.doctor_id,
        clinic_id=request.clinic_id,
        starts_at=starts_at,
        ends_at=ends_at,
        expires_at=now + timedelta(minutes=minutes),
        created_by_user_id=caller.user_id,
        created_at=now,
    )
    await add_hold(session, hold, now)
    # Not needed for the slot to be free then (reads see expiry by themselves), but for
    # the news of it to reach those watching the doctor's slots.
    announce(
        session,
        Topic.SLOT_HOLD_EXPIRED,
        {"doctor_id": str(hold.doctor_id)},
        available_at=hold.expires_at,
    )
    return NewHold(hold, [old for old in replaced if old.expires_at > now])


async def release_hold(
    session: AsyncSession, caller: Caller, hold_id: uuid.UUID
) -> tuple[SlotHold, bool]:
    """Ends the hold; also whether it was still live (an expired one held nothing).
    Does not commit."""
    hold = await locked_hold(session, caller, hold_id)
    live = hold.expires_at > clock.now()
    await session.delete(hold)
    await session.flush()
    return hold, live
