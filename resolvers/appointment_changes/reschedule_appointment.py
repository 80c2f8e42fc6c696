from datetime import datetime

import strawberry

from domain.appointment_changes import reschedule
from resolvers.appointment_changes.audit import audited_change, changed
from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Appointment


async def resolve_reschedule_appointment(
    info: strawberry.Info[Context], id: strawberry.ID, starts_at: datetime
) -> Appointment:
    context = info.context
    caller = context.require_caller()
    appointment_id = parse_id(id)
    async with (
        audited_change(context.audit, "appointment.reschedule", appointment_id),
        context.sessions.begin() as session,
    ):
        appointment, _ = await reschedule(session, caller, appointment_id, starts_at)
    await context.slot_cache.invalidate([appointment.doctor_id])
    changed(context.audit, "appointment.reschedule", appointment)
    return Appointment.from_model(appointment)
