"""What decides doctors' slots on clinic-local dates: one statement for any number of
doctors and dates, then a linear merge per day."""

import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    SmallInteger,
    String,
    Time,
    Uuid,
    any_,
    bindparam,
    cast,
    column,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CompoundSelect

from db.enums import AppointmentStatus
from db.models import Appointment, Clinic, Doctor, ScheduleException, ScheduleTemplate, SlotHold
from domain.slot_grid import Block, Slot, day_slots, find_slot
from domain.timezones import stored_zone
from services.slot_cache import DayKey

# Before any real "now": slots computed with it are unavailable only when busy, so
# they can be cached and the "already started" rule applied at read time.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)

Interval = tuple[datetime, datetime]


# A live hold: its time, and when it stops counting.
Held = tuple[datetime, datetime, datetime]


@dataclass(slots=True)
class DoctorDay:
    """What decides one doctor's slots on one date: blocks per clinic, and busy time."""

    zones: dict[uuid.UUID, ZoneInfo] = field(default_factory=dict)
    blocks: dict[uuid.UUID, list[Block]] = field(default_factory=lambda: defaultdict(list))
    booked: list[Interval] = field(default_factory=list)
    away: list[Interval] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    def slots(self, local_date: date) -> list[Slot]:
        """Slots of every clinic, sorted by instant, available unless busy."""
        busy = self.booked + self.away + [(start, end) for start, end, _ in self.held]
        slots = [
            slot
            for clinic_id, blocks in self.blocks.items()
            for slot in day_slots(local_date, self.zones[clinic_id], blocks, busy, _BEGINNING)
        ]
        return sorted(slots, key=lambda slot: slot.starts_at.astimezone(UTC))

    @property
    def held_until(self) -> datetime | None:
        """When the first of the day's holds expires: its slots say so only until then."""
        return min((expires for _, _, expires in self.held), default=None)

    def find(
        self, local_date: date, clinic_id: uuid.UUID, starts_at: datetime
    ) -> tuple[datetime, datetime] | None:
        """The (start, end) of the slot starting exactly at ``starts_at`` at that clinic."""
        if clinic_id not in self.zones:
            return None
        found = find_slot(local_date, self.zones[clinic_id], self.blocks[clinic_id], starts_at)
        return (found[1], found[2]) if found is not None else None

    def is_away(self, starts_at: datetime, ends_at: datetime) -> bool:
        return any(start < ends_at and starts_at < end for start, end in self.away)


def as_of(slots: Sequence[Slot], now: datetime) -> list[Slot]:
    """A slot that has started is no longer available."""
    return [
        slot if slot.starts_at > now or not slot.available else replace(slot, available=False)
        for slot in slots
    ]


def utc_window(local_date: date) -> Interval:
    """Every instant that is ``local_date`` somewhere (UTC-12 to UTC+14), with a margin."""
    start = datetime.combine(local_date, datetime.min.time(), UTC) - timedelta(days=1)
    return start, start + timedelta(days=3)


def _merged_windows(keys: Sequence[DayKey]) -> list[tuple[uuid.UUID, datetime, datetime]]:
    """Each doctor's dates as few disjoint UTC ranges: consecutive dates make one."""
    by_doctor: defaultdict[uuid.UUID, list[Interval]] = defaultdict(list)
    for key in keys:
        by_doctor[key.doctor_id].append(utc_window(key.date))
    merged: list[tuple[uuid.UUID, datetime, datetime]] = []
    for doctor_id, windows in by_doctor.items():
        windows.sort()
        start, end = windows[0]
        for next_start, next_end in windows[1:]:
            if next_start > end:
                merged.append((doctor_id, start, end))
                start = next_start
            end = max(end, next_end)
        merged.append((doctor_id, start, end))
    return merged


def _overlaps(period: ColumnElement[object], start: object, end: object) -> ColumnElement[bool]:
    # The same expression as the GiST indexes on appointments and exceptions.
    return period.op("&&")(func.tstzrange(start, end))


def _doctor_days_statement(with_holds: bool) -> CompoundSelect[Any]:
    """Built once: constructing a statement of this size costs more than running it.
    The doctors, weekdays and UTC windows are bound as arrays, so one compiled form
    serves any number of keys."""
    nearby = (
        func.unnest(
            bindparam("w_doctor", type_=ARRAY(Uuid())),
            bindparam("w_start", type_=ARRAY(DateTime(timezone=True))),
            bindparam("w_end", type_=ARRAY(DateTime(timezone=True))),
        )
        .table_valued(
            column("doctor_id", Uuid()),
            column("starts", DateTime(timezone=True)),
            column("ends", DateTime(timezone=True)),
        )
        .render_derived(name="nearby")
    )
    templates = (
        select(
            literal("T").label("kind"),
            ScheduleTemplate.doctor_id,
            ScheduleTemplate.clinic_id,
            Clinic.timezone,
            ScheduleTemplate.day_of_week,
            ScheduleTemplate.start_time,
            ScheduleTemplate.end_time,
            ScheduleTemplate.slot_minutes,
            cast(null(), DateTime(timezone=True)).label("starts_at"),
            cast(null(), DateTime(timezone=True)).label("ends_at"),
            cast(null(), DateTime(timezone=True)).label("expires_at"),
        )
        .join(Clinic, Clinic.id == ScheduleTemplate.clinic_id)
        .join(Doctor, Doctor.id == ScheduleTemplate.doctor_id)
        .where(
            ScheduleTemplate.doctor_id == any_(bindparam("doctor_ids", type_=ARRAY(Uuid()))),
            ScheduleTemplate.day_of_week == any_(bindparam("weekdays", type_=ARRAY(SmallInteger))),
            Doctor.active,
        )
    )
    no_block = (
        cast(null(), Uuid),
        cast(null(), String),
        cast(null(), SmallInteger),
        cast(null(), Time),
        cast(null(), Time),
        cast(null(), SmallInteger),
    )
    appointments = (
        select(
            literal("A"),
            Appointment.doctor_id,
            *no_block,
            Appointment.starts_at,
            Appointment.ends_at,
            cast(null(), DateTime(timezone=True)),
        )
        .join(nearby, nearby.c.doctor_id == Appointment.doctor_id)
        .where(
            Appointment.status == AppointmentStatus.SCHEDULED,
            _overlaps(
                func.tstzrange(Appointment.starts_at, Appointment.ends_at),
                nearby.c.starts,
                nearby.c.ends,
            ),
        )
    )
    exceptions = (
        select(
            literal("E"),
            ScheduleException.doctor_id,
            *no_block,
            ScheduleException.starts_at,
            ScheduleException.ends_at,
            cast(null(), DateTime(timezone=True)),
        )
        .join(nearby, nearby.c.doctor_id == ScheduleException.doctor_id)
        .where(
            _overlaps(
                func.tstzrange(ScheduleException.starts_at, ScheduleException.ends_at),
                nearby.c.starts,
                nearby.c.ends,
            )
        )
    )
    parts = [templates, appointments, exceptions]
    if with_holds:
        parts.append(
            select(
                literal("H"),
                SlotHold.doctor_id,
                *no_block,
                SlotHold.starts_at,
                SlotHold.ends_at,
                SlotHold.expires_at,
            )
            .join(nearby, nearby.c.doctor_id == SlotHold.doctor_id)
            .where(
                SlotHold.expires_at > bindparam("holds_at", type_=DateTime(timezone=True)),
                SlotHold.starts_at < nearby.c.ends,
                SlotHold.ends_at > nearby.c.starts,
            )
        )
    return union_all(*parts)


_DOCTOR_DAYS = _doctor_days_statement(with_holds=False)
_DOCTOR_DAYS_WITH_HOLDS = _doctor_days_statement(with_holds=True)


async def load_doctor_days(
    session: AsyncSession, keys: Sequence[DayKey], holds_at: datetime | None = None
) -> "DoctorDays":
    """What decides the slots of every key, in ONE statement (a UNION ALL) however many
    doctors and dates: the templates of active doctors on those weekdays, and the
    scheduled appointments and exceptions around those dates; with ``holds_at``, also
    the holds live then."""
    if not keys:
        return DoctorDays([], [])
    windows = _merged_windows(keys)
    parameters: dict[str, object] = {
        "doctor_ids": sorted({key.doctor_id for key in keys}),
        "weekdays": sorted({key.date.isoweekday() for key in keys}),
        "w_doctor": [w[0] for w in windows],
        "w_start": [w[1] for w in windows],
        "w_end": [w[2] for w in windows],
    }
    if holds_at is None:
        statement = _DOCTOR_DAYS
    else:
        statement, parameters["holds_at"] = _DOCTOR_DAYS_WITH_HOLDS, holds_at
    rows: Sequence[Sequence[Any]] = (await session.execute(statement, parameters)).all()
    return DoctorDays(keys, rows)


@dataclass(slots=True)
class _Doctor:
    blocks: list[tuple[int, uuid.UUID, ZoneInfo, Block]] = field(default_factory=list)
    booked: list[Interval] = field(default_factory=list)
    away: list[Interval] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    # Scheduled appointments never overlap (an exclusion constraint), so sorted by start
    # they are sorted by end too: a day's share is one slice.
    booked_starts: list[datetime] = field(default_factory=list)
    booked_ends: list[datetime] = field(default_factory=list)

    def day(self, key: DayKey) -> DoctorDay:
        day = DoctorDay()
        weekday = key.date.isoweekday()
        for block_weekday, clinic, tz, block in self.blocks:
            if block_weekday == weekday and key.clinic_id in (None, clinic):
                day.zones.setdefault(clinic, tz)
                day.blocks[clinic].append(block)
        start, end = utc_window(key.date)
        if self.booked:
            first = bisect_right(self.booked_ends, start)
            day.booked = self.booked[first : bisect_left(self.booked_starts, end)]
        day.away = [(s, e) for s, e in self.away if s < end and e > start]
        day.held = [(s, e, x) for s, e, x in self.held if s < end and e > start]
        return day


class DoctorDays(Mapping[DayKey, DoctorDay]):
    """What the statement found, per key; each day is put together when first asked for,
    as a search may need only a few of those it loaded."""

    def __init__(self, keys: Sequence[DayKey], rows: Sequence[Sequence[Any]]) -> None:
        self._keys = dict.fromkeys(keys)
        self._days: dict[DayKey, DoctorDay] = {}
        self._doctors: defaultdict[uuid.UUID, _Doctor] = defaultdict(_Doctor)
        for (
            kind,
            doctor_id,
            clinic,
            zone,
            weekday,
            start,
            end,
            minutes,
            starts_at,
            ends_at,
            expires,
        ) in rows:
            found = self._doctors[doctor_id]
            if kind == "T":
                block = Block(clinic, start, end, minutes)
                found.blocks.append((weekday, clinic, stored_zone(zone), block))
            elif kind == "A":
                found.booked.append((starts_at, ends_at))
            elif kind == "H":
                found.held.append((starts_at, ends_at, expires))
            else:
                found.away.append((starts_at, ends_at))
        for found in self._doctors.values():
            found.booked.sort()
            found.booked_starts = [start for start, _ in found.booked]
            found.booked_ends = [end for _, end in found.booked]

    def __getitem__(self, key: DayKey) -> DoctorDay:
        day = self._days.get(key)
        if day is None:
            if key not in self._keys:
                raise KeyError(key)
            day = self._days[key] = self._doctors[key.doctor_id].day(key)
        return day

    def __iter__(self) -> Iterator[DayKey]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
