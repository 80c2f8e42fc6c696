"""Free slots of many doctors on one clinic-local date: one statement, then a linear merge."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    DateTime,
    SmallInteger,
    String,
    Time,
    Uuid,
    cast,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus
from db.models import Appointment, Clinic, ScheduleException, ScheduleTemplate
from domain.slot_grid import Block, Slot, day_slots, find_slot

# Before any real "now": slots computed with it are unavailable only when busy, so
# they can be cached and the "already started" rule applied at read time.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class DoctorDay:
    """What decides one doctor's slots on one date: blocks per clinic, and busy time."""

    zones: dict[uuid.UUID, ZoneInfo] = field(default_factory=dict)
    blocks: dict[uuid.UUID, list[Block]] = field(default_factory=lambda: defaultdict(list))
    booked: list[tuple[datetime, datetime]] = field(default_factory=list)
    away: list[tuple[datetime, datetime]] = field(default_factory=list)

    def slots(self, local_date: date) -> list[Slot]:
        """Slots of every clinic, sorted by instant, available unless busy."""
        slots = [
            slot
            for clinic_id, blocks in self.blocks.items()
            for slot in day_slots(
                local_date, self.zones[clinic_id], blocks, self.booked + self.away, _BEGINNING
            )
        ]
        return sorted(slots, key=lambda slot: slot.starts_at.astimezone(UTC))

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


async def load_doctor_days(
    session: AsyncSession,
    doctor_ids: Sequence[uuid.UUID],
    local_date: date,
    clinic_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, DoctorDay]:
    """Templates of that weekday, scheduled appointments and exceptions of every doctor
    in ``doctor_ids``, in ONE statement (a UNION ALL of the three)."""
    # Wide enough for any zone's local day (UTC-12 to UTC+14).
    window_start = datetime.combine(local_date, datetime.min.time(), UTC) - timedelta(days=1)
    window_end = window_start + timedelta(days=3)
    templates = (
        select(
            literal("T").label("kind"),
            ScheduleTemplate.doctor_id,
            ScheduleTemplate.clinic_id,
            Clinic.timezone,
            ScheduleTemplate.start_time,
            ScheduleTemplate.end_time,
            ScheduleTemplate.slot_minutes,
            cast(null(), DateTime(timezone=True)).label("starts_at"),
            cast(null(), DateTime(timezone=True)).label("ends_at"),
        )
        .join(Clinic, Clinic.id == ScheduleTemplate.clinic_id)
        .where(
            ScheduleTemplate.doctor_id.in_(doctor_ids),
            ScheduleTemplate.day_of_week == local_date.isoweekday(),
        )
    )
    if clinic_id is not None:
        templates = templates.where(ScheduleTemplate.clinic_id == clinic_id)
    no_block = (
        cast(null(), Uuid),
        cast(null(), String),
        cast(null(), Time),
        cast(null(), Time),
        cast(null(), SmallInteger),
    )
    appointments = select(
        literal("A"), Appointment.doctor_id, *no_block, Appointment.starts_at, Appointment.ends_at
    ).where(
        Appointment.doctor_id.in_(doctor_ids),
        Appointment.status == AppointmentStatus.SCHEDULED,
        Appointment.starts_at < window_end,
        Appointment.ends_at > window_start,
    )
    exceptions = select(
        literal("E"),
        ScheduleException.doctor_id,
        *no_block,
        ScheduleException.starts_at,
        ScheduleException.ends_at,
    ).where(
        ScheduleException.doctor_id.in_(doctor_ids),
        ScheduleException.starts_at < window_end,
        ScheduleException.ends_at > window_start,
    )
    days: dict[uuid.UUID, DoctorDay] = {doctor_id: DoctorDay() for doctor_id in doctor_ids}
    rows = await session.execute(union_all(templates, appointments, exceptions))
    for kind, doctor_id, clinic, zone, start, end, minutes, starts_at, ends_at in rows.all():
        day = days[doctor_id]
        if kind == "T":
            day.zones.setdefault(clinic, ZoneInfo(zone))
            day.blocks[clinic].append(Block(clinic, start, end, minutes))
        elif kind == "A":
            day.booked.append((starts_at, ends_at))
        else:
            day.away.append((starts_at, ends_at))
    return days
