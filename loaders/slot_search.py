"""searchSlots' read: the doctors in one statement, then their days date by date from the
slot cache that availableSlots fills too, with one statement for every day not cached."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Doctor
from domain.availability import DayKey, DoctorDay, load_doctor_days
from domain.clock import clock
from domain.pagination import Cursor, Page
from domain.slot_grid import Slot
from domain.slot_search import EarliestSlots, FoundSlot, SlotSearch, days_by_date, searched_doctors
from services.slot_cache import SlotCache, decode_slots


@dataclass(frozen=True, slots=True)
class SlotSearchPage:
    page: Page[FoundSlot]
    doctors: Sequence[Doctor]  # every doctor searched, so the page's need no statement


async def search_slots(
    sessions: async_sessionmaker[AsyncSession],
    cache: SlotCache,
    search: SlotSearch,
    *,
    first: int,
    after: Cursor | None,
) -> SlotSearchPage:
    earliest = EarliestSlots.start(search, first, after, clock.now())
    async with sessions() as session:
        doctors = await searched_doctors(session, search)
    by_date = days_by_date(
        ((doctor.id, zones) for doctor, zones in doctors),
        earliest.scan_from,
        search.end,
        search.clinic_id,
    )
    dates = list(by_date)
    zones = {zone for _, doctor_zones in doctors for zone in doctor_zones}
    fetched: dict[DayKey, DoctorDay] | None = None
    computed: dict[DayKey, tuple[int, Sequence[Slot]]] = {}
    for index, day in enumerate(dates):
        read = await cache.read(by_date[day])
        for key, encoded in read.hits.items():
            earliest.add(key, decode_slots(encoded))
        if read.stamps and fetched is None:
            # Every day from here on, in one statement: later misses need none.
            remaining = [key for later in dates[index:] for key in by_date[later]]
            async with sessions() as session:
                fetched = await load_doctor_days(session, remaining)
        for key, stamp in read.stamps.items():
            assert fetched is not None
            slots = fetched[key].slots(key.date)
            computed[key] = (stamp, slots)
            earliest.add(key, slots)
        if index + 1 < len(dates) and earliest.complete_before(dates[index + 1], zones):
            break
    await cache.store(computed)
    return SlotSearchPage(earliest.page(), [doctor for doctor, _ in doctors])
