import uuid
from datetime import date
from typing import Annotated

import strawberry

from domain.access import require_doctor_or_admin
from domain.appointments import doctor_schedule
from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Appointment


async def audited_schedule(
    info: strawberry.Info[Context], doctor_id: uuid.UUID, first_day: date, last_day: date
) -> list[Appointment]:
    """The doctor's appointments on those local dates, for the doctor and admins; each
    one is a read of its patient, and audited as such."""
    context = info.context
    caller = context.require_caller()
    require_doctor_or_admin(
        caller, doctor_id, "Only the doctor and administrators may see this schedule."
    )
    async with context.sessions() as session:
        appointments = await doctor_schedule(session, doctor_id, first_day, last_day)
    for appointment in appointments:
        # A schedule tells whom the doctor sees: each entry is a read of that patient.
        context.audit.allowed(
            "appointment.read",
            patient_id=appointment.patient_id,
            resource_type="Appointment",
            resource_id=appointment.id,
        )
    return [Appointment.from_model(appointment) for appointment in appointments]


async def resolve_schedule(
    info: strawberry.Info[Context],
    doctor_id: strawberry.ID,
    first_day: Annotated[date, strawberry.argument(name="from")],
    last_day: Annotated[date, strawberry.argument(name="to")],
) -> list[Appointment]:
    return await audited_schedule(info, parse_id(doctor_id, "doctorId"), first_day, last_day)
