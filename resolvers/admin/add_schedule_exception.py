from datetime import datetime

import strawberry

from domain.administration import exception_stale_days
from domain.schedules import add_exception
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import REASON, limited
from schema.types.schedule import ScheduleException


@strawberry.input
class ScheduleExceptionInput:
    doctor_id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    reason: str | None = strawberry.field(default=None, metadata=limited(REASON))


async def resolve_add_schedule_exception(
    info: strawberry.Info[Context], input: ScheduleExceptionInput
) -> ScheduleException:
    doctor_id = parse_id(input.doctor_id, "doctorId")
    async with info.context.sessions.begin() as session:
        exception = await add_exception(
            session,
            doctor_id=doctor_id,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            reason=input.reason,
        )
        stale = await exception_stale_days(session, exception)
    await info.context.slot_cache.invalidate_days([stale])
    return ScheduleException.from_model(exception)
