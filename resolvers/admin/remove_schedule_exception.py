import strawberry

from domain.clock import clock
from domain.waitlist_offers import remove_exception_and_offer
from resolvers.holds.audit import entry_changed
from schema.context import Context
from schema.ids import parse_id


async def resolve_remove_schedule_exception(
    info: strawberry.Info[Context], id: strawberry.ID
) -> bool:
    context = info.context
    async with context.sessions.begin() as session:
        stale, offered = await remove_exception_and_offer(
            session, parse_id(id), clock.now(), context.services.settings.offer_minutes
        )
    await context.slot_cache.invalidate_days([stale])
    if offered:
        # Held for those offered: every cached day of the doctor says so.
        await context.slot_cache.invalidate([stale.doctor_id], bookings_only=True)
    for entry in offered:
        entry_changed(context.audit, "waitlist.offer", entry)
    return True
