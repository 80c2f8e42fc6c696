"""Claims of a doctor's time: what keeps holds and appointments apart.

Who gets a slot is PostgreSQL's decision, as for bookings. Holds and scheduled
appointments each put a row in ``slot_claims`` (triggers, migration 0006), whose
exclusion constraint refuses two rows of one doctor that overlap in time: a hold and an
appointment, or two holds, can never overlap however many processes race, and whoever
writes the tables. An exclusion constraint cannot ask for now(), so an expired hold
keeps its claim until someone wants that time: whoever holds or books it first deletes
the expired holds there, in the same transaction, then inserts its own row under the
constraint. Two racers for one expired hold serialize on it: the second one's delete
waits for the first's lock on that row, finds it gone, and its insert then meets the
first one's claim. No job has to delete anything for a hold to stop counting: reads
ignore expired holds (``expires_at`` against the domain's clock), and writers take
their time over.
"""

import uuid
from datetime import datetime

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SlotClaim, SlotHold
from domain.caller import Caller
from services.errors import BadUserInput, Forbidden, NotFound

NOT_YOUR_HOLD = "You hold no slot with that id."
NO_SUCH_HOLD = "No hold has that id."


# Built once: statement construction costs more than the round trip.
_CLEAR_EXPIRED = (
    delete(SlotHold)
    .where(
        SlotHold.doctor_id == bindparam("doctor_id"),
        SlotHold.expires_at <= bindparam("now"),
        SlotHold.starts_at < bindparam("ends_at"),
        SlotHold.ends_at > bindparam("starts_at"),
    )
    .execution_options(synchronize_session=False)
)


async def clear_expired(
    session: AsyncSession,
    doctor_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> None:
    """Deletes the doctor's expired holds that overlap [starts_at, ends_at), so that a
    claim of that time inserted next in this transaction meets only live ones."""
    await session.execute(
        _CLEAR_EXPIRED,
        {"doctor_id": doctor_id, "now": now, "starts_at": starts_at, "ends_at": ends_at},
    )


async def claimed(
    session: AsyncSession,
    doctor_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> bool:
    """Whether a committed appointment or live hold has some of that time already. Only
    a shortcut for the many who come after the winner of a race: they give up without
    writing, or waiting on anyone's lock. The constraint still decides."""
    found = await session.scalar(
        select(SlotClaim.id)
        .outerjoin(SlotHold, SlotHold.id == SlotClaim.hold_id)
        .where(
            SlotClaim.doctor_id == doctor_id,
            SlotClaim.starts_at < ends_at,
            SlotClaim.ends_at > starts_at,
            or_(SlotClaim.hold_id.is_(None), SlotHold.expires_at > now),
        )
        .limit(1)
    )
    return found is not None


async def locked_hold(session: AsyncSession, caller: Caller, hold_id: uuid.UUID) -> SlotHold:
    """A hold made by holdSlot, locked, if the caller is its patient or an admin. Offers
    are answered through the waitlist (acceptWaitlistOffer, leaveWaitlist)."""
    hold = await session.scalar(
        select(SlotHold)
        .where(SlotHold.id == hold_id, SlotHold.waitlist_entry_id.is_(None))
        .with_for_update()
    )
    if hold is None:
        raise NotFound(NO_SUCH_HOLD) if caller.is_admin else Forbidden(NOT_YOUR_HOLD)
    if not (caller.is_admin or hold.patient_id == caller.patient_id):
        raise Forbidden(NOT_YOUR_HOLD)
    return hold


async def use_hold(
    session: AsyncSession,
    caller: Caller,
    hold_id: uuid.UUID,
    patient_id: uuid.UUID,
    slot: tuple[uuid.UUID, uuid.UUID, datetime],
) -> SlotHold:
    """Deletes the hold so that the booking of its slot inserted next, in the same
    transaction, takes its time. A hold that has expired is the patient's all the
    same: the booking then gets the slot if nobody else took it."""
    hold = await locked_hold(session, caller, hold_id)
    if hold.patient_id != patient_id:
        raise BadUserInput("That hold is another patient's.")
    if (hold.doctor_id, hold.clinic_id, hold.starts_at) != slot:
        raise BadUserInput("That hold is for another slot: book its doctor, clinic and startsAt.")
    await session.delete(hold)
    await session.flush()
    return hold
