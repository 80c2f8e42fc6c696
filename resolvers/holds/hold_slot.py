from datetime import datetime

import strawberry

from domain.holds import HoldRequest, hold_slot
from resolvers.holds.audit import audited, hold_changed
from schema.context import Context
from schema.ids import parse_id
from schema.types.waitlist import SlotHold, clinic_rows


@strawberry.input
class HoldSlotInput:
    doctor_id: strawberry.ID
    clinic_id: strawberry.ID
    starts_at: datetime
    patient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Administrators only: the patient to hold it for."
    )


async def resolve_hold_slot(info: strawberry.Info[Context], input: HoldSlotInput) -> SlotHold:
    context = info.context
    caller = context.require_caller()
    request = HoldRequest(
        doctor_id=parse_id(input.doctor_id, "doctorId"),
        clinic_id=parse_id(input.clinic_id, "clinicId"),
        starts_at=input.starts_at,
        patient_id=parse_id(input.patient_id, "patientId") if input.patient_id else None,
    )
    async with audited(context.audit, "hold.create", "SlotHold"), context.sessions.begin() as s:
        held = await hold_slot(s, caller, request, context.services.settings.hold_minutes)
    hold = held.hold
    await context.slot_cache.invalidate(
        {hold.doctor_id, *(old.doctor_id for old in held.replaced)}, bookings_only=True
    )
    for old in held.replaced:
        hold_changed(context.audit, "hold.replace", old)
    hold_changed(context.audit, "hold.create", hold)
    clinics = await clinic_rows(info, [hold.clinic_id])
    return SlotHold.of(hold, clinics[hold.clinic_id])
