"""How full the doctors are: per doctor, appointments by status, booked and open time.

One set-based statement, meant for the analytics connection (a read replica, read-only,
with its own statement timeout). Dates are each clinic's local dates.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, DateTime, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import BadUserInput, NotFound

MAX_REPORT_DAYS = 366

# Open time is the union of the doctor's template blocks on those dates (wall time in
# the clinic's zone, so a DST day's block is as long as it really is), less the time
# the doctor is away; booked time is that of appointments that were not cancelled.
_REPORT = text("""
WITH scope AS (
    SELECT dc.doctor_id, dc.clinic_id, c.timezone
    FROM doctor_clinics dc
    JOIN clinics c ON c.id = dc.clinic_id
    WHERE CAST(:clinic_id AS uuid) IS NULL OR dc.clinic_id = CAST(:clinic_id AS uuid)
),
days AS (
    SELECT CAST(d AS date) AS day
    FROM generate_series(CAST(:first_day AS timestamp), CAST(:last_day AS timestamp),
                         interval '1 day') AS d
),
blocks AS (
    SELECT t.doctor_id, range_agg(tstzrange(b.starts, GREATEST(b.starts, b.ends))) AS open
    FROM schedule_templates t
    JOIN scope s ON s.doctor_id = t.doctor_id AND s.clinic_id = t.clinic_id
    JOIN days ON EXTRACT(ISODOW FROM days.day) = t.day_of_week
    CROSS JOIN LATERAL (
        SELECT (days.day + t.start_time) AT TIME ZONE s.timezone AS starts,
               (days.day + t.end_time) AT TIME ZONE s.timezone AS ends
    ) b
    GROUP BY t.doctor_id
),
away AS (
    SELECT e.doctor_id, range_agg(tstzrange(e.starts_at, e.ends_at)) AS away
    FROM schedule_exceptions e
    WHERE e.doctor_id IN (SELECT doctor_id FROM scope)
      AND tstzrange(e.starts_at, e.ends_at) && tstzrange(:window_start, :window_end)
    GROUP BY e.doctor_id
),
open_time AS (
    SELECT b.doctor_id,
           (SELECT COALESCE(SUM(EXTRACT(EPOCH FROM upper(r) - lower(r))), 0)
            FROM unnest(b.open - COALESCE(a.away, '{}'::tstzmultirange)) AS r) / 60 AS minutes
    FROM blocks b
    LEFT JOIN away a ON a.doctor_id = b.doctor_id
),
booked AS (
    SELECT a.doctor_id,
           COUNT(*) FILTER (WHERE a.status = 'SCHEDULED') AS scheduled,
           COUNT(*) FILTER (WHERE a.status = 'COMPLETED') AS completed,
           COUNT(*) FILTER (WHERE a.status = 'CANCELLED') AS cancelled,
           COUNT(*) FILTER (WHERE a.status = 'NO_SHOW') AS no_show,
           COALESCE(SUM(EXTRACT(EPOCH FROM a.ends_at - a.starts_at))
                    FILTER (WHERE a.status <> 'CANCELLED'), 0) / 60 AS minutes
    FROM appointments a
    JOIN scope s ON s.doctor_id = a.doctor_id AND s.clinic_id = a.clinic_id
    WHERE a.starts_at >= :window_start AND a.starts_at < :window_end
      AND CAST(a.starts_at AT TIME ZONE s.timezone AS date) BETWEEN :first_day AND :last_day
    GROUP BY a.doctor_id
),
report AS (
    SELECT d.id, d.name, d.specialty, d.active,
           COALESCE(bk.scheduled, 0) AS scheduled,
           COALESCE(bk.completed, 0) AS completed,
           COALESCE(bk.cancelled, 0) AS cancelled,
           COALESCE(bk.no_show, 0) AS no_show,
           CAST(ROUND(COALESCE(bk.minutes, 0)) AS integer) AS booked_minutes,
           CAST(ROUND(COALESCE(o.minutes, 0)) AS integer) AS open_minutes
    FROM doctors d
    JOIN (SELECT DISTINCT doctor_id FROM scope) sd ON sd.doctor_id = d.id
    LEFT JOIN booked bk ON bk.doctor_id = d.id
    LEFT JOIN open_time o ON o.doctor_id = d.id
)
-- Always one row at least, saying whether the clinic asked for exists.
SELECT known.clinic_exists, report.*
FROM (
    SELECT CAST(:clinic_id AS uuid) IS NULL
           OR EXISTS (SELECT 1 FROM clinics WHERE id = CAST(:clinic_id AS uuid)) AS clinic_exists
) AS known
LEFT JOIN report ON true
ORDER BY report.name, report.id
""").bindparams(
    bindparam("clinic_id", type_=Uuid()),
    bindparam("first_day", type_=Date()),
    bindparam("last_day", type_=Date()),
    bindparam("window_start", type_=DateTime(timezone=True)),
    bindparam("window_end", type_=DateTime(timezone=True)),
)


@dataclass(frozen=True, slots=True)
class DoctorReport:
    doctor_id: uuid.UUID
    name: str
    specialty: str
    active: bool
    scheduled: int
    completed: int
    cancelled: int
    no_show: int
    booked_minutes: int
    open_minutes: int

    @property
    def utilization(self) -> float:
        """Booked over open time, 0 to 1 (bookings made before a template was removed
        can exceed what is open now)."""
        if self.open_minutes <= 0:
            return 0.0
        return min(1.0, self.booked_minutes / self.open_minutes)


async def clinic_report(
    session: AsyncSession, first_day: date, last_day: date, clinic_id: uuid.UUID | None
) -> Sequence[DoctorReport]:
    """Every doctor of the clinic (of every clinic without one), by name, over the local
    dates ``first_day`` to ``last_day`` inclusive. NOT_FOUND for an unknown clinic."""
    if last_day < first_day:
        raise BadUserInput("`to` must not be before `from`.")
    if (last_day - first_day).days + 1 > MAX_REPORT_DAYS:
        raise BadUserInput(f"A report covers at most {MAX_REPORT_DAYS} days.")
    # Every instant that is one of those dates in some zone (UTC-12 to UTC+14).
    window_start = datetime.combine(first_day, datetime.min.time(), UTC) - timedelta(days=1)
    window_end = datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(days=2)
    rows = await session.execute(
        _REPORT,
        {
            "clinic_id": clinic_id,
            "first_day": first_day,
            "last_day": last_day,
            "window_start": window_start,
            "window_end": window_end,
        },
    )
    found = rows.all()
    if not found[0].clinic_exists:
        raise NotFound("No clinic has that id.")
    return [DoctorReport(*row[1:]) for row in found if row.id is not None]
