import uuid
from datetime import date

import strawberry

from db.enums import AppointmentStatus, AuditOutcome
from domain.appointments import appointment_cursor, patient_appointments
from domain.audit import AuditEvent
from domain.pagination import Cursor
from resolvers.schedule import audited_schedule
from schema.context import Context
from schema.ids import parse_id
from schema.types.appointment import Appointment
from schema.types.connection import Connection


async def resolve_appointment(
    info: strawberry.Info[Context], id: strawberry.ID
) -> Appointment | None:
    appointment = await info.context.loaders.readable_appointment.load(parse_id(id))
    return Appointment.from_model(appointment) if appointment is not None else None


async def resolve_patient_appointments(
    info: strawberry.Info[Context],
    patient_id: uuid.UUID,
    first: int | None,
    after: str | None,
    status: list[AppointmentStatus] | None,
) -> Connection[Appointment]:
    """Reached only through a Patient the caller may read."""
    context = info.context
    context.audit.record(
        AuditEvent(
            action="patient.appointments.read",
            outcome=AuditOutcome.ALLOWED,
            patient_id=patient_id,
            resource_type="Patient",
            resource_id=str(patient_id),
        )
    )
    async with context.sessions() as session:
        page = await patient_appointments(
            session,
            patient_id,
            first=20 if first is None else first,
            after=Cursor.decode(after) if after is not None else None,
            statuses=status,
        )
    return Connection.from_page(page, Appointment.from_model, appointment_cursor)


async def resolve_doctor_schedule(
    info: strawberry.Info[Context], doctor_id: strawberry.ID, date: date
) -> list[Appointment]:
    return await audited_schedule(info, parse_id(doctor_id, "doctorId"), date, date)
