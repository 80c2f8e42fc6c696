from typing import Annotated

import strawberry

from domain.appointment_changes import cancel
from domain.audit import appointment_changed
from domain.clock import clock
from domain.waitlist_offers import FreedSlot, offer_freed_slot
from resolvers.appointment_changes.audit import audited_change
from resolvers.holds.audit import entry_changed
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
        freed = FreedSlot(appointment.doctor_id, appointment.clinic_id, appointment.starts_at)
        offered = await offer_freed_slot(
            session, freed, clock.now(), context.services.settings.offer_minutes
        )
    await context.slot_cache.invalidate([appointment.doctor_id], bookings_only=True)
    appointment_changed(context.audit, "appointment.cancel", appointment)
    if offered is not None:
        entry_changed(context.audit, "waitlist.offer", offered)
    return Appointment.from_model(appointment)
