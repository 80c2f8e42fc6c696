from datetime import datetime

import strawberry

from domain.clock import clock
from domain.waitlist import WaitlistRequest, join
from resolvers.holds.audit import audited, entry_changed
from schema.context import Context
from schema.ids import parse_id
from schema.types.waitlist import WaitlistEntry, clinic_rows


@strawberry.input(description="`from` and `to` at most 31 days apart.")
class WaitlistInput:
    doctor_id: strawberry.ID
    clinic_id: strawberry.ID
    from_: datetime = strawberry.field(name="from", description="Slots starting at or after this.")
    to: datetime = strawberry.field(description="Slots ending by this.")
    patient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Administrators only: the patient who waits."
    )


async def resolve_join_waitlist(
    info: strawberry.Info[Context], input: WaitlistInput
) -> WaitlistEntry:
    context = info.context
    caller = context.require_caller()
    request = WaitlistRequest(
        doctor_id=parse_id(input.doctor_id, "doctorId"),
        clinic_id=parse_id(input.clinic_id, "clinicId"),
        window_from=input.from_,
        window_to=input.to,
        patient_id=parse_id(input.patient_id, "patientId") if input.patient_id else None,
    )
    async with (
        audited(context.audit, "waitlist.join", "WaitlistEntry"),
        context.sessions.begin() as session,
    ):
        entry = await join(session, caller, request)
    entry_changed(context.audit, "waitlist.join", entry)
    clinics = await clinic_rows(info, [entry.clinic_id])
    return WaitlistEntry.of(entry, clinics[entry.clinic_id], clock.now())
