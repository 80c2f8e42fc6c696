"""Free slots across doctors, earliest first: which doctors and days to look at, and the
merge of their days into one keyset-paged list.

Days are looked at in date order, and the search stops as soon as no later date can
hold a slot that would make the page: the first free dermatologist this week usually
needs a day or two, not all seven.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Clinic, Doctor, DoctorClinic
from domain.availability import DayKey
from domain.errors import BadUserInput
from domain.pagination import INVALID_CURSOR, Cursor, Page, check_page_size
from domain.slot_grid import Slot

MAX_SEARCH_DAYS = 31
MAX_SEARCH_DOCTOR_IDS = 100
# Kept between a date's earliest midnight and the slots counted as surely before it, in
# case a zone's day begins off the hour.
_MARGIN = timedelta(hours=1)


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
class FoundSlot:
    doctor_id: uuid.UUID
    slot: Slot

    @property
    def order(self) -> tuple[datetime, uuid.UUID, uuid.UUID]:
        """Earliest first; a doctor has one slot per clinic and instant."""
        return (self.slot.starts_at.astimezone(UTC), self.doctor_id, self.slot.clinic_id)


def found_slot_cursor(found: FoundSlot) -> Cursor:
    at, doctor_id, clinic_id = found.order
    return Cursor(at, f"{doctor_id},{clinic_id}")


def _after(cursor: Cursor | None) -> tuple[datetime, uuid.UUID, uuid.UUID] | None:
    if cursor is None:
        return None
    doctor, _, clinic = cursor.id.partition(",")
    try:
        return cursor.at.astimezone(UTC), uuid.UUID(doctor), uuid.UUID(clinic)
    except ValueError:
        raise BadUserInput(INVALID_CURSOR) from None


async def searched_doctors(
    session: AsyncSession, search: SlotSearch
) -> list[tuple[Doctor, list[ZoneInfo]]]:
    """Active doctors matching the filters, each with the time zones of the clinics
    searched, in one statement."""
    zones = func.array_agg(distinct(Clinic.timezone))
    query = (
        select(Doctor, zones)
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
    rows = (await session.execute(query)).all()
    return [(doctor, [ZoneInfo(name) for name in names]) for doctor, names in rows]


def days_by_date(
    doctors: Iterable[tuple[uuid.UUID, Sequence[ZoneInfo]]],
    start: datetime,
    end: datetime,
    clinic_id: uuid.UUID | None,
) -> dict[date, list[DayKey]]:
    """The doctor-days that can hold a slot starting in [start, end), by date in order:
    the local dates of that span in each doctor's zones. The same keys as availableSlots
    uses, so a day cached by either serves both."""
    by_date: dict[date, set[DayKey]] = {}
    last = end - timedelta(microseconds=1)
    for doctor_id, zones in doctors:
        for zone in zones:
            day, final = start.astimezone(zone).date(), last.astimezone(zone).date()
            while day <= final:
                by_date.setdefault(day, set()).add(DayKey(doctor_id, day, clinic_id))
                day += timedelta(days=1)
    return {
        day: sorted(keys, key=lambda key: key.doctor_id) for day, keys in sorted(by_date.items())
    }


@dataclass(slots=True)
class EarliestSlots:
    """The page being gathered: free slots in the window, after the cursor, in order."""

    search: SlotSearch
    first: int
    now: datetime
    after: tuple[datetime, uuid.UUID, uuid.UUID] | None
    found: list[tuple[tuple[datetime, uuid.UUID, uuid.UUID], FoundSlot]] = field(
        default_factory=list
    )

    @classmethod
    def start(
        cls, search: SlotSearch, first: int, after: Cursor | None, now: datetime
    ) -> "EarliestSlots":
        search.check()
        check_page_size(first)
        return cls(search, first, now, _after(after))

    @property
    def scan_from(self) -> datetime:
        """No slot before this can be on the page: started ones are taken, and the cursor
        and ``from`` exclude the rest."""
        bounds = [self.search.start, self.now]
        if self.after is not None:
            bounds.append(self.after[0])
        return max(bounds)

    def add(self, key: DayKey, slots: Sequence[Slot]) -> None:
        start, end = self.search.start, self.search.end
        for slot in slots:
            if not slot.available or slot.starts_at <= self.now:
                continue
            if not start <= slot.starts_at < end:
                continue
            found = FoundSlot(key.doctor_id, slot)
            order = found.order
            if self.after is None or order > self.after:
                self.found.append((order, found))

    def _settle(self) -> None:
        # Only the page and the one after it matter; the rest can never make the page.
        self.found.sort(key=lambda item: item[0])
        del self.found[self.first + 1 :]

    def complete_before(self, next_date: date, zones: Iterable[ZoneInfo]) -> bool:
        """Whether the page is final because no slot on ``next_date`` or later, in any
        of ``zones``, can come before its last entry."""
        self._settle()
        if len(self.found) <= self.first:
            return False
        earliest = min(datetime.combine(next_date, time(0), zone) for zone in zones)
        return self.found[self.first][0][0] < earliest.astimezone(UTC) - _MARGIN

    def page(self) -> Page[FoundSlot]:
        self._settle()
        return Page([found for _, found in self.found[: self.first]], len(self.found) > self.first)
