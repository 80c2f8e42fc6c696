"""A doctor's weekly templates (public, like the slots they make) and exceptions (the
doctor and admins: a reason for being away is nobody else's business)."""

import uuid
from datetime import date

import strawberry

from db.enums import Role
from domain.errors import Forbidden
from loaders.schedules import ExceptionsKey
from schema.context import Context
from schema.types.schedule import ScheduleException, ScheduleTemplate


async def resolve_schedule_templates(
    info: strawberry.Info[Context], doctor_id: uuid.UUID
) -> list[ScheduleTemplate]:
    templates = await info.context.loaders.schedule_templates.load(doctor_id)
    return [ScheduleTemplate.from_model(template) for template in templates]


async def resolve_schedule_exceptions(
    info: strawberry.Info[Context],
    doctor_id: uuid.UUID,
    first_day: date | None,
    last_day: date | None,
) -> list[ScheduleException]:
    caller = info.context.require_caller()
    if not (caller.is_admin or (caller.role is Role.DOCTOR and caller.doctor_id == doctor_id)):
        raise Forbidden("Only the doctor and administrators may see when the doctor is away.")
    key = ExceptionsKey(doctor_id, first_day, last_day)
    exceptions = await info.context.loaders.schedule_exceptions.load(key)
    return [ScheduleException.from_model(exception) for exception in exceptions]
