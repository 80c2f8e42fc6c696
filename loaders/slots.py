from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.availability import as_of, load_doctor_days
from domain.clock import clock
from domain.slot_grid import Slot
from medappt.slot_cache import DayKey, SlotCache


async def load_slots(
    sessions: async_sessionmaker[AsyncSession], cache: SlotCache, keys: Sequence[DayKey]
) -> list[list[Slot]]:
    """Slots for many (doctor, date, clinic) keys: one Redis round trip, and on a miss one
    statement per distinct (date, clinic) however many doctors, plus one round trip to
    store what was computed."""
    read = await cache.read(keys)
    computed: dict[DayKey, list[Slot]] = {}
    missing: defaultdict[tuple[object, object], list[DayKey]] = defaultdict(list)
    for key in keys:
        if key not in read.hits:
            missing[key.date, key.clinic_id].append(key)
    if missing:
        async with sessions() as session:
            for group in missing.values():
                first = group[0]
                days = await load_doctor_days(
                    session, [key.doctor_id for key in group], first.date, first.clinic_id
                )
                for key in group:
                    computed[key] = days[key.doctor_id].slots(key.date)
        await cache.store({key: (read.versions[key], computed[key]) for key in computed})
    now = clock.now()
    return [as_of(read.hits[key] if key in read.hits else computed[key], now) for key in keys]
