from typing import Annotated

import strawberry

from domain.appointment_changes import cancel
from resolvers.appointment_changes.audit import audited_change, changed
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import REASON, limited
from schema.types.patient import Appointment


async def resolve_cancel_appointment(
    info: strawberry.Info[Context],
    id: strawberry.ID,
    reason: Annotated[str | None, strawberry.argument(metadata=limited(REASON))] = None,
) -> Appointment:
    context = info.context
    caller = context.require_caller()
    appointment_id = parse_id(id)
    async with (
        audited_change(context.audit, "appointment.cancel", appointment_id),
        context.sessions.begin() as session,
    ):
        appointment = await cancel(session, caller, appointment_id, reason)
    await context.slot_cache.invalidate([appointment.doctor_id])
    changed(context.audit, "appointment.cancel", appointment)
    return Appointment.from_model(appointment)
