"""searchSlots' read: the doctors in one statement, then their days, earliest first, from
the slot cache that availableSlots fills too, with one statement for every day not cached."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.availability import DoctorDays, load_doctor_days
from domain.clock import clock
from domain.day_slots import DaySlots
from domain.pagination import Cursor, Page
from domain.slot_search import (
    EarliestSlots,
    FoundSlot,
    SearchedDoctor,
    SlotSearch,
    days_in_order,
    searched_doctors,
)
from services.slot_cache import DayKey, SlotCache, Stamp

# Days read from Redis at a time: about one date of a specialty's doctors.
BATCH = 64


@dataclass(frozen=True, slots=True)
class SlotSearchPage:
    page: Page[FoundSlot]
    doctors: Sequence[SearchedDoctor]


async def search_slots(
    sessions: async_sessionmaker[AsyncSession],
    cache: SlotCache,
    search: SlotSearch,
    *,
    first: int,
    after: Cursor | None,
) -> SlotSearchPage:
    now = clock.now()
    earliest = EarliestSlots.start_search(search, first, after, now)
    async with sessions() as session:
        doctors = await searched_doctors(session, search)
    days = days_in_order(doctors, earliest.scan_from, search.end, search.clinic_id)
    computed: dict[DayKey, tuple[Stamp, bytes]] = {}
    await _gather(sessions, cache, earliest, days, computed, now=now)
    await cache.store(computed)
    return SlotSearchPage(earliest.page(), doctors)


async def _gather(
    sessions: async_sessionmaker[AsyncSession],
    cache: SlotCache,
    earliest: EarliestSlots,
    days: Sequence[tuple[int, DayKey]],
    computed: dict[DayKey, tuple[Stamp, bytes]],
    *,
    now: datetime,
) -> None:
    """Offers the days to ``earliest`` in order until no later one can change the page;
    the days it had to compute go into ``computed``."""
    fetched: DoctorDays | None = None
    for index in range(0, len(days), BATCH):
        batch = days[index : index + BATCH]
        read = await cache.read(
            [key for _, key in batch], lambda encoded: DaySlots.true_at(encoded, now)
        )
        for begins, key in batch:
            if earliest.complete_before(begins):
                return
            encoded = read.hits.get(key)
            day = DaySlots.decode(encoded) if encoded is not None else None
            if day is None:
                if fetched is None:
                    # Every day from here on, in one statement: later misses need none.
                    async with sessions() as session:
                        fetched = await load_doctor_days(
                            session, [k for _, k in days[index:]], holds_at=now
                        )
                day = DaySlots.of(fetched[key].slots(key.date), fetched[key].held_until)
                computed[key] = (read.stamps[key], day.encode())
            earliest.add(key.doctor_id, day)
