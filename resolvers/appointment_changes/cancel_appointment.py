from typing import Annotated

import strawberry

from domain.appointment_changes import cancel
from resolvers.appointment_changes.audit import changed
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
    async with context.sessions.begin() as session:
        appointment = await cancel(session, caller, parse_id(id), reason)
    await context.slot_cache.invalidate([appointment.doctor_id])
    context.audit.record(changed("appointment.cancel", appointment))
    return Appointment.from_model(appointment)
