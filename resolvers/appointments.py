from datetime import date

import strawberry

from resolvers.schedule import audited_schedule
from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Appointment


async def resolve_appointment(
    info: strawberry.Info[Context], id: strawberry.ID
) -> Appointment | None:
    appointment = await info.context.loaders.readable_appointment.load(parse_id(id))
    return Appointment.from_model(appointment) if appointment is not None else None


async def resolve_doctor_schedule(
    info: strawberry.Info[Context], doctor_id: strawberry.ID, date: date
) -> list[Appointment]:
    return await audited_schedule(info, parse_id(doctor_id, "doctorId"), date, date)
