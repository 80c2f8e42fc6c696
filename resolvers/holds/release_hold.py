import strawberry

from domain.holds import release_hold
from resolvers.holds.audit import audited, hold_changed
from schema.context import Context
from schema.ids import parse_id


async def resolve_release_hold(info: strawberry.Info[Context], id: strawberry.ID) -> bool:
    context = info.context
    caller = context.require_caller()
    hold_id = parse_id(id)
    async with (
        audited(context.audit, "hold.release", "SlotHold", hold_id),
        context.sessions.begin() as session,
    ):
        hold, live = await release_hold(session, caller, hold_id)
    if live:
        await context.slot_cache.invalidate([hold.doctor_id], bookings_only=True)
    hold_changed(context.audit, "hold.release", hold)
    return live
