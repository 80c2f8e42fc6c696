"""`slotsChanged`: a doctor's slots on a date, now and after every committed change to them."""

from collections.abc import AsyncGenerator
from datetime import date

import strawberry

from domain.availability import as_of
from domain.clock import clock
from domain.slot_grid import Slot as SlotValue
from loaders.slots import cached_days
from schema.context import Context
from schema.ids import parse_id
from schema.types.clinic import shown_clinics
from schema.types.doctor import Slot
from services.errors import NotFound
from services.slot_cache import DayKey


async def resolve_slots_changed(
    info: strawberry.Info[Context], doctor_id: strawberry.ID, date: date
) -> AsyncGenerator[list[Slot], None]:
    context = info.context
    doctor = parse_id(doctor_id, "doctorId")
    if await context.loaders.doctor.load(doctor) is None:
        raise NotFound("No doctor has that id.")
    # A subscription lasts minutes or hours: it must not keep the request's connection.
    await context.sessions.close()
    services = context.services
    key = DayKey(doctor, date, None)

    async def compute() -> list[SlotValue]:
        # Shared by every subscriber of the day on this process: no caller's loaders.
        days = await cached_days(services.sessions, services.slot_cache, [key])
        return days[key].slots()

    # Watching first: a change committed while the first list is computed is not missed.
    async with services.slot_feed.watching(doctor, date) as watch:
        seen, slots = await watch.computed(compute)
        while True:
            # "Already started" is applied per delivery: the shared day is not as of now.
            shown = as_of(slots, clock.now())
            clinics = shown_clinics(
                await services.clinics.get_many({slot.clinic_id for slot in shown})
            )
            yield [Slot.of(slot, clinics[slot.clinic_id], doctor) for slot in shown]
            # That list's fields are resolved: give back any connection they took.
            await context.sessions.close()
            await watch.next_version(seen)
            seen, slots = await watch.computed(compute)
