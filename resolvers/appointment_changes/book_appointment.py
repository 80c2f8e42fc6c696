from datetime import datetime

import strawberry

from domain.booking import BOOK_ACTION, BookingRequest, book_and_commit, stale_days_of
from resolvers.appointment_changes.audit import audited_change
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import IDEMPOTENCY_KEY, REASON, limited
from schema.types.patient import Appointment


@strawberry.input
class BookAppointmentInput:
    doctor_id: strawberry.ID
    clinic_id: strawberry.ID
    starts_at: datetime
    reason: str | None = strawberry.field(default=None, metadata=limited(REASON))
    patient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Administrators only: the patient to book for."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retries with the same key return the first booking.",
        metadata=limited(IDEMPOTENCY_KEY),
    )
    hold_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The caller's hold of this slot (holdSlot): the hold becomes the booking.",
    )


async def resolve_book_appointment(
    info: strawberry.Info[Context], input: BookAppointmentInput
) -> Appointment:
    context = info.context
    caller = context.require_caller()
    request = BookingRequest(
        doctor_id=parse_id(input.doctor_id, "doctorId"),
        clinic_id=parse_id(input.clinic_id, "clinicId"),
        starts_at=input.starts_at,
        reason=input.reason,
        patient_id=parse_id(input.patient_id, "patientId") if input.patient_id else None,
        idempotency_key=input.idempotency_key,
        hold_id=parse_id(input.hold_id, "holdId") if input.hold_id else None,
    )
    async with audited_change(context.audit, BOOK_ACTION):
        # The booking's audit row goes in its own statement (domain/booking.py).
        appointment = await book_and_commit(
            context.sessions,
            caller,
            request,
            days=context.slot_cache,
            clinics=context.services.clinics,
            audit=context.audit,
        )
    await context.slot_cache.invalidate_days([stale_days_of(appointment)])
    if request.hold_id is not None:
        context.audit.allowed(
            "hold.book",
            patient_id=appointment.patient_id,
            resource_type="SlotHold",
            resource_id=request.hold_id,
        )
    return Appointment.from_model(appointment)
