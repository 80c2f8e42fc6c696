from datetime import datetime

import strawberry

from domain.appointment_changes import reschedule
from domain.audit import appointment_changed
from domain.clock import clock
from domain.waitlist_offers import FreedSlot, offer_freed_slot
from resolvers.appointment_changes.audit import audited_change
from resolvers.holds.audit import entry_changed
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
        appointment, previous_start = await reschedule(session, caller, appointment_id, starts_at)
        freed = FreedSlot(appointment.doctor_id, appointment.clinic_id, previous_start)
        offered = await offer_freed_slot(
            session, freed, clock.now(), context.services.settings.offer_minutes
        )
    await context.slot_cache.invalidate([appointment.doctor_id], bookings_only=True)
    appointment_changed(context.audit, "appointment.reschedule", appointment)
    if offered is not None:
        entry_changed(context.audit, "waitlist.offer", offered)
    return Appointment.from_model(appointment)
