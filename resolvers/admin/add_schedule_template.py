from datetime import time

import strawberry

from domain.schedules import add_template
from schema.context import Context
from schema.ids import parse_id
from schema.types.schedule import ScheduleTemplate
from services.slot_cache import StaleDays


@strawberry.input
class ScheduleTemplateInput:
    doctor_id: strawberry.ID
    clinic_id: strawberry.ID
    day_of_week: int = strawberry.field(description="1 = Monday .. 7 = Sunday.")
    start_time: time
    end_time: time
    slot_minutes: int = 30


async def resolve_add_schedule_template(
    info: strawberry.Info[Context], input: ScheduleTemplateInput
) -> ScheduleTemplate:
    doctor_id = parse_id(input.doctor_id, "doctorId")
    async with info.context.sessions.begin() as session:
        template = await add_template(
            session,
            doctor_id=doctor_id,
            clinic_id=parse_id(input.clinic_id, "clinicId"),
            day_of_week=input.day_of_week,
            start_time=input.start_time,
            end_time=input.end_time,
            slot_minutes=input.slot_minutes,
        )
    # That weekday's days only: the others keep their cached slots.
    weekday = frozenset({template.day_of_week})
    await info.context.slot_cache.invalidate_days([StaleDays(doctor_id, weekdays=weekday)])
    return ScheduleTemplate.from_model(template)
