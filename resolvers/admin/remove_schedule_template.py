import strawberry

from domain.administration import remove_template
from schema.context import Context
from schema.ids import parse_id


async def resolve_remove_schedule_template(
    info: strawberry.Info[Context], id: strawberry.ID
) -> bool:
    context = info.context
    async with context.sessions.begin() as session:
        stale = await remove_template(session, parse_id(id))
    await context.slot_cache.invalidate_days([stale])
    return True
