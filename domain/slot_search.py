"""Free slots across doctors, earliest first: which doctor-days to look at, in which order,
and the merge of their slots into one keyset-paged list.

Doctor-days are looked at in the order their dates begin (each in its doctor's zones),
and the search stops as soon as no day left can hold a slot that would make the page:
the first free dermatologist this week usually needs a day or two of each doctor, not
all seven.
"""

import heapq
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Clinic, Doctor, DoctorClinic
from domain.day_slots import DaySlots, Row, instant, micros
from domain.pagination import INVALID_CURSOR, Cursor, Page, check_page_size
from domain.slot_grid import Slot
from domain.timezones import stored_zone
from services.errors import BadUserInput
from services.slot_cache import DayKey

MAX_SEARCH_DAYS = 31
MAX_SEARCH_DOCTOR_IDS = 100
# A day is taken to begin this much before its local midnight, in case a zone's day
# begins off the hour (a transition at midnight).
_MARGIN = timedelta(hours=1)

# Earliest first: start (UTC microseconds), then doctor, then clinic (their ids as
# integers). Unique: a doctor has one slot per clinic and instant.
Order = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class SlotSearch:
    """Slots starting at or after ``start`` and before ``end``, of active doctors matching
    every filter given."""

    start: datetime
    end: datetime
    specialty: str | None = None
    clinic_id: uuid.UUID | None = None
    doctor_ids: Sequence[uuid.UUID] | None = None

    def check(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise BadUserInput("`from` and `to` need a UTC offset.")
        if self.end <= self.start:
            raise BadUserInput("`to` must be after `from`.")
        if self.end - self.start > timedelta(days=MAX_SEARCH_DAYS):
            raise BadUserInput(f"`from` and `to` may be at most {MAX_SEARCH_DAYS} days apart.")
        if self.doctor_ids is not None and len(self.doctor_ids) > MAX_SEARCH_DOCTOR_IDS:
            raise BadUserInput(f"`doctorIds` may name at most {MAX_SEARCH_DOCTOR_IDS} doctors.")


@dataclass(frozen=True, slots=True)
class SearchedDoctor:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    specialty: str
    created_at: datetime
    zones: list[ZoneInfo]  # of the clinics searched

    def model(self) -> Doctor:
        return Doctor(
            id=self.id,
            user_id=self.user_id,
            name=self.name,
            specialty=self.specialty,
            active=True,
            created_at=self.created_at,
        )


@dataclass(frozen=True, slots=True)
class FoundSlot:
    doctor_id: uuid.UUID
    slot: Slot
    order: Order


def found_slot_cursor(found: FoundSlot) -> Cursor:
    at, doctor, clinic = found.order
    return Cursor(instant(at, 0), f"{uuid.UUID(int=doctor)},{uuid.UUID(int=clinic)}")


def _after(cursor: Cursor | None) -> Order | None:
    if cursor is None:
        return None
    doctor, _, clinic = cursor.id.partition(",")
    try:
        return micros(cursor.at), uuid.UUID(doctor).int, uuid.UUID(clinic).int
    except ValueError:
        raise BadUserInput(INVALID_CURSOR) from None


async def searched_doctors(session: AsyncSession, search: SlotSearch) -> list[SearchedDoctor]:
    """Active doctors matching the filters, each with the time zones of the clinics
    searched, in one statement (plain columns: most never make the page)."""
    query = (
        select(
            Doctor.id,
            Doctor.user_id,
            Doctor.name,
            Doctor.specialty,
            Doctor.created_at,
            func.array_agg(distinct(Clinic.timezone)),
        )
        .join(DoctorClinic, DoctorClinic.doctor_id == Doctor.id)
        .join(Clinic, Clinic.id == DoctorClinic.clinic_id)
        .where(Doctor.active)
        .group_by(Doctor.id)
        .order_by(Doctor.id)
    )
    if search.specialty is not None:
        query = query.where(Doctor.specialty == search.specialty)
    if search.clinic_id is not None:
        query = query.where(Clinic.id == search.clinic_id)
    if search.doctor_ids is not None:
        query = query.where(Doctor.id.in_(search.doctor_ids))
    return [
        SearchedDoctor(
            id_, user_id, name, specialty, created_at, [stored_zone(z) for z in zone_names]
        )
        for id_, user_id, name, specialty, created_at, zone_names in await session.execute(query)
    ]


def days_in_order(
    doctors: Sequence[SearchedDoctor], start: datetime, end: datetime, clinic_id: uuid.UUID | None
) -> list[tuple[int, DayKey]]:
    """The doctor-days that can hold a slot starting in [start, end), each with the
    instant (UTC microseconds) before which none of its slots starts, in that order. The
    same keys availableSlots uses, so a day cached by either serves both."""
    last = end - timedelta(microseconds=1)
    # The dates of the window in each zone, with the instant each begins.
    dates: dict[ZoneInfo, list[tuple[int, date]]] = {}
    for zone in {zone for doctor in doctors for zone in doctor.zones}:
        day, final = start.astimezone(zone).date(), last.astimezone(zone).date()
        dates[zone] = []
        while day <= final:
            midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
            dates[zone].append((micros(midnight - _MARGIN), day))
            day += timedelta(days=1)
    ordered: list[tuple[int, int, DayKey]] = []
    for doctor in doctors:
        begins: dict[date, int] = {}
        for zone in doctor.zones:
            for begin, day in dates[zone]:
                begins[day] = min(begins.get(day, begin), begin)
        doctor_int = doctor.id.int
        ordered += [
            (begin, doctor_int, DayKey(doctor.id, day, clinic_id)) for day, begin in begins.items()
        ]
    ordered.sort(key=lambda item: (item[0], item[1]))
    return [(begin, key) for begin, _, key in ordered]


@dataclass(slots=True)
class EarliestSlots:
    """The page being gathered: the first + 1 free slots in the window after the cursor,
    kept in a heap whose top is the latest of them."""

    first: int
    start: int  # UTC microseconds, inclusive
    end: int  # exclusive
    after: Order | None
    # Orders negated: the top of the heap is the latest slot kept.
    best: list[tuple[int, int, int, DaySlots, Row]] = field(default_factory=list)

    @classmethod
    def start_search(
        cls, search: SlotSearch, first: int, after: Cursor | None, now: datetime
    ) -> "EarliestSlots":
        search.check()
        check_page_size(first)
        # A slot that has started is taken: nothing before now can be on the page.
        start = max(micros(search.start), micros(now) + 1)
        return cls(first, start, micros(search.end), _after(after))

    @property
    def scan_from(self) -> datetime:
        """No slot starting before this can be on the page."""
        bound = self.start if self.after is None else max(self.start, self.after[0])
        return instant(bound, 0)

    def _full(self) -> bool:
        return len(self.best) > self.first

    def add(self, doctor_id: uuid.UUID, day: DaySlots) -> None:
        start, end, after, best = self.start, self.end, self.after, self.best
        first_free, last_free = day.first_free, day.last_free
        if first_free is None or last_free is None or last_free < start or first_free >= end:
            return  # decoded only if it can hold a slot of the page
        if self._full() and first_free > -best[0][0]:
            return
        doctor = doctor_id.int
        clinics = [clinic.int for clinic in day.clinic_ids]
        for row in day.rows:  # by start
            # [clinic index, start µs, end µs, start offset, end offset, free]
            at = row[1]
            if at < start or not row[5]:
                continue
            full = self._full()
            if at >= end or (full and at > -best[0][0]):
                return
            clinic = clinics[row[0]]
            if after is not None and (at, doctor, clinic) <= after:
                continue
            entry = (-at, -doctor, -clinic, day, row)
            if full:
                heapq.heappushpop(best, entry)
            else:
                heapq.heappush(best, entry)

    def complete_before(self, earliest: int) -> bool:
        """Whether the page is final because nothing starting at ``earliest`` or later
        can come before its last entry."""
        return self._full() and -self.best[0][0] < earliest

    def page(self) -> Page[FoundSlot]:
        ordered = sorted(self.best, key=lambda entry: entry[:3], reverse=True)
        items = [
            FoundSlot(uuid.UUID(int=-doctor), day.slot(row), (-at, -doctor, -clinic))
            for at, doctor, clinic, day, row in ordered[: self.first]
        ]
        return Page(items, len(ordered) > self.first)
