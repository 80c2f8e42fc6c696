import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ScheduleException, ScheduleTemplate
from domain.schedules import exceptions_of, templates_of


@dataclass(frozen=True, slots=True)
class ExceptionsKey:
    doctor_id: uuid.UUID
    first_day: date | None
    last_day: date | None


async def load_templates(
    sessions: async_sessionmaker[AsyncSession], doctor_ids: Sequence[uuid.UUID]
) -> list[list[ScheduleTemplate]]:
    async with sessions() as session:
        templates = await templates_of(session, doctor_ids)
    by_doctor: defaultdict[uuid.UUID, list[ScheduleTemplate]] = defaultdict(list)
    for template in templates:
        by_doctor[template.doctor_id].append(template)
    return [by_doctor[doctor_id] for doctor_id in doctor_ids]


async def load_exceptions(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[ExceptionsKey]
) -> list[list[ScheduleException]]:
    """One statement per distinct window: a page of doctors asks for one."""
    windows: defaultdict[tuple[date | None, date | None], set[uuid.UUID]] = defaultdict(set)
    for key in keys:
        windows[key.first_day, key.last_day].add(key.doctor_id)
    found: defaultdict[ExceptionsKey, list[ScheduleException]] = defaultdict(list)
    async with sessions() as session:
        for (first_day, last_day), doctor_ids in windows.items():
            for exception in await exceptions_of(session, sorted(doctor_ids), first_day, last_day):
                found[ExceptionsKey(exception.doctor_id, first_day, last_day)].append(exception)
    return [found[key] for key in keys]
