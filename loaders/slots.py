from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.availability import as_of, load_doctor_days
from domain.clock import clock
from domain.day_slots import DaySlots
from domain.slot_grid import Slot
from services.slot_cache import DayKey, SlotCache


async def cached_days(
    sessions: async_sessionmaker[AsyncSession], cache: SlotCache, keys: Sequence[DayKey]
) -> dict[DayKey, DaySlots]:
    """Slots (available unless booked, away or held; not yet as of now) for many keys:
    one Redis round trip, and for the days not cached one statement however many doctors
    and dates, plus one round trip to store what was computed. A cached day that counts
    a hold expired since is computed again: expiry needs no job."""
    now = clock.now()
    read = await cache.read(keys, lambda encoded: DaySlots.true_at(encoded, now))
    days = {key: DaySlots.decode(encoded) for key, encoded in read.hits.items()}
    if read.stamps:
        async with sessions() as session:
            computed = await load_doctor_days(session, list(read.stamps), holds_at=now)
        fresh = {
            key: DaySlots.of(day.slots(key.date), day.held_until) for key, day in computed.items()
        }
        await cache.store({key: (read.stamps[key], day.encode()) for key, day in fresh.items()})
        days.update(fresh)
    return days


async def load_slots(
    sessions: async_sessionmaker[AsyncSession], cache: SlotCache, keys: Sequence[DayKey]
) -> list[list[Slot]]:
    days = await cached_days(sessions, cache, keys)
    now = clock.now()
    return [as_of(days[key].slots(), now) for key in keys]
