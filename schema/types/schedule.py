from datetime import datetime, time

import strawberry

from db import models


@strawberry.type
class ScheduleTemplate:
    id: strawberry.ID
    doctor_id: strawberry.ID
    clinic_id: strawberry.ID
    day_of_week: int = strawberry.field(description="1 = Monday .. 7 = Sunday.")
    start_time: time
    end_time: time
    slot_minutes: int

    @classmethod
    def from_model(cls, template: models.ScheduleTemplate) -> "ScheduleTemplate":
        return cls(
            id=strawberry.ID(str(template.id)),
            doctor_id=strawberry.ID(str(template.doctor_id)),
            clinic_id=strawberry.ID(str(template.clinic_id)),
            day_of_week=template.day_of_week,
            start_time=template.start_time,
            end_time=template.end_time,
            slot_minutes=template.slot_minutes,
        )


@strawberry.type
class ScheduleException:
    id: strawberry.ID
    doctor_id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    reason: str | None

    @classmethod
    def from_model(cls, exception: models.ScheduleException) -> "ScheduleException":
        return cls(
            id=strawberry.ID(str(exception.id)),
            doctor_id=strawberry.ID(str(exception.doctor_id)),
            starts_at=exception.starts_at,
            ends_at=exception.ends_at,
            reason=exception.reason,
        )
