import strawberry

from domain.audit import appointment_changed
from domain.waitlist import accept
from resolvers.holds.audit import audited, entry_changed
from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Appointment


async def resolve_accept_waitlist_offer(
    info: strawberry.Info[Context], id: strawberry.ID
) -> Appointment:
    context = info.context
    caller = context.require_caller()
    entry_id = parse_id(id)
    async with (
        audited(context.audit, "waitlist.accept", "WaitlistEntry", entry_id),
        context.sessions.begin() as session,
    ):
        entry, appointment = await accept(
            session, caller, entry_id, days=context.slot_cache, clinics=context.services.clinics
        )
    await context.slot_cache.invalidate([appointment.doctor_id], bookings_only=True)
    entry_changed(context.audit, "waitlist.accept", entry)
    appointment_changed(context.audit, "appointment.book", appointment)
    return Appointment.from_model(appointment)
