import strawberry

from db.enums import AppointmentStatus
from domain.appointment_changes import set_status
from resolvers.appointment_changes.audit import changed
from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Appointment


async def resolve_set_appointment_status(
    info: strawberry.Info[Context], id: strawberry.ID, status: AppointmentStatus
) -> Appointment:
    context = info.context
    caller = context.require_caller()
    async with context.sessions.begin() as session:
        appointment = await set_status(session, caller, parse_id(id), status)
    context.audit.record(changed("appointment.status", appointment))
    return Appointment.from_model(appointment)
