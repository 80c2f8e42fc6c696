import strawberry

from domain.waitlist import leave
from resolvers.holds.audit import audited, entry_changed
from schema.context import Context
from schema.ids import parse_id


async def resolve_leave_waitlist(info: strawberry.Info[Context], id: strawberry.ID) -> bool:
    context = info.context
    caller = context.require_caller()
    entry_id = parse_id(id)
    async with (
        audited(context.audit, "waitlist.leave", "WaitlistEntry", entry_id),
        context.sessions.begin() as session,
    ):
        left = await leave(session, caller, entry_id, context.services.settings.offer_minutes)
    if left.entry.offered_at is not None and left.changed:
        # A declined offer's hold is gone, or passed to the next patient.
        await context.slot_cache.invalidate([left.entry.doctor_id], bookings_only=True)
    if left.changed:
        entry_changed(context.audit, "waitlist.leave", left.entry)
    if left.offered_next is not None:
        entry_changed(context.audit, "waitlist.offer", left.offered_next)
    return left.changed
