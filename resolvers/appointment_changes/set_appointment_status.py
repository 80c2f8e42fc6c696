import strawberry

from db.enums import AppointmentStatus
from domain.appointment_changes import set_status
from domain.audit import appointment_changed
from resolvers.appointment_changes.audit import audited_change
from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Appointment


async def resolve_set_appointment_status(
    info: strawberry.Info[Context], id: strawberry.ID, status: AppointmentStatus
) -> Appointment:
    context = info.context
    caller = context.require_caller()
    appointment_id = parse_id(id)
    async with (
        audited_change(context.audit, "appointment.status", appointment_id),
        context.sessions.begin() as session,
    ):
        appointment = await set_status(session, caller, appointment_id, status)
    appointment_changed(context.audit, "appointment.status", appointment)
    return Appointment.from_model(appointment)
