"""Where the scale data set's appointments fall, and the medical records they leave.

Appointments are placed day by day over the clinic-local dates from ``PAST_DAYS`` before
``now`` to ``FUTURE_DAYS`` after it, each on a template slot of a doctor working at the
patient's home clinic that weekday. Two rules keep every booking free of conflicts, so
the exclusion constraints never refuse one, whatever its status:

* a doctor's slot on a date is given out at most once, and a doctor works at one clinic
  per weekday, so no two of a doctor's appointments overlap;
* a patient has at most one appointment per date, always at the home clinic, so all of a
  patient's appointments lie in one zone between 07:30 and 18:00 on distinct local dates.

Appointments that ended by ``now`` are mostly COMPLETED, some CANCELLED or NO_SHOW; all
others, including any in progress at ``now``, are SCHEDULED.
"""

import bisect
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from db.enums import AppointmentStatus, RecordStatus, RecordType
from devtools.scale.world import WEEKDAYS, World, scale_uuid

PAST_DAYS: Final = 365
FUTURE_DAYS: Final = 91
# Booking lead times average about ten days; the cap keeps every booking after the
# patient's registration (see ``world.build_world``).
_MEAN_LEAD_DAYS, _MAX_LEAD_DAYS = 10.0, 45.0
# Of the appointments that are over: completed, cancelled, the rest no-shows.
_COMPLETED_SHARE, _CANCELLED_SHARE = 0.84, 0.09
# How often a patient sees their own doctor when that doctor works on the chosen day.
_OWN_DOCTOR_SHARE = 0.6
# A completed visit leaves a document this often.
RECORD_SHARE: Final = 0.2
# Draws for one appointment before concluding that the day has no room left.
_MAX_ATTEMPTS = 500

_MINUTES_PER_DAY = 24 * 60

_REASONS = (
    "Annual check-up",
    "Follow-up visit",
    "Persistent headache",
    "Skin rash",
    "Blood pressure review",
    "Back pain",
    "Vaccination",
    "Test results discussion",
    "Cough and fever",
    "Medication review",
    "Knee pain",
    "Chest discomfort",
    "Allergy consultation",
    "Prenatal check",
    "Sleep problems",
    "Diabetes control",
    "Sports injury",
    "Anxiety and stress",
    "Ear infection",
    "Pre-operative assessment",
)
_CANCELLATION_REASONS = (
    "Patient is travelling",
    "Feeling better",
    "Schedule conflict",
    "Doctor unavailable",
    "Rebooked at another time",
)


@dataclass(frozen=True, slots=True)
class _RecordKind:
    record_type: RecordType
    title: str
    file_name: str
    content_type: str
    min_bytes: int
    max_bytes: int


_RECORD_KINDS = (
    _RecordKind(
        RecordType.VISIT_NOTE, "Visit note", "visit-note.pdf", "application/pdf", 20_000, 200_000
    ),
    _RecordKind(
        RecordType.LAB_REPORT,
        "Blood panel results",
        "blood-panel.pdf",
        "application/pdf",
        40_000,
        400_000,
    ),
    _RecordKind(
        RecordType.PRESCRIPTION,
        "Prescription",
        "prescription.pdf",
        "application/pdf",
        15_000,
        120_000,
    ),
    _RecordKind(RecordType.IMAGING, "X-ray image", "x-ray.png", "image/png", 300_000, 6_000_000),
    _RecordKind(
        RecordType.OTHER,
        "Referral letter",
        "referral-letter.pdf",
        "application/pdf",
        20_000,
        150_000,
    ),
)

APPOINTMENT_COLUMNS: Final = (
    "id",
    "patient_id",
    "doctor_id",
    "clinic_id",
    "starts_at",
    "ends_at",
    "status",
    "reason",
    "cancellation_reason",
    "cancelled_at",
    "booked_by_user_id",
    "created_at",
    "updated_at",
)
RECORD_COLUMNS: Final = (
    "id",
    "patient_id",
    "doctor_id",
    "uploaded_by_user_id",
    "record_type",
    "title",
    "file_name",
    "content_type",
    "size_bytes",
    "s3_key",
    "status",
    "created_at",
    "uploaded_at",
)

Row = tuple[object, ...]


def appointments_per_day(total: int, today: date) -> list[tuple[date, int]]:
    """The weekdays of the window and how many appointments each gets, ``total`` in all.

    Past weekdays (today included) get equal shares; future ones fewer the further ahead
    they lie, as bookings thin out towards the end of the three months.
    """
    days: list[date] = []
    weights: list[float] = []
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        if day.isoweekday() <= 5:  # Monday to Friday
            days.append(day)
            weights.append(1.0 if offset <= 0 else 1 - offset / (FUTURE_DAYS + 1))
    # Largest remainders: whole numbers that add up to ``total`` exactly.
    scale = total / sum(weights)
    shares = [weight * scale for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(days)), key=lambda i: (counts[i] - shares[i], i))
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return list(zip(days, counts, strict=True))


class Planner:
    """Yields appointment rows in date order and keeps the record rows they lead to.

    ``appointment_rows`` is a generator to be drained once; afterwards ``record_rows``
    and ``statuses`` describe what it produced.
    """

    def __init__(self, world: World, *, appointments: int, seed: int, now: datetime) -> None:
        if appointments < 0:
            raise ValueError("appointments must not be negative")
        if now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        self._world = world
        self._total = appointments
        self._now = now.astimezone(UTC)
        self._rng = random.Random(f"medappt-scale:{seed}:appointments")
        self.record_rows: list[Row] = []
        self.statuses: Counter[AppointmentStatus] = Counter()

    def appointment_rows(self) -> Iterator[Row]:
        world, rng, now = self._world, self._rng, self._now
        doctors, patients, clinics = world.doctors, world.patients, world.clinics
        # Some patients come often, many a few times a year and some never.
        activity = [rng.gammavariate(2.0, 1.0) for _ in patients]
        cumulative = list(itertools.accumulate(activity))
        total_activity = cumulative[-1]
        working: dict[tuple[int, int], list[int]] = {}  # (clinic, weekday) -> doctors
        for doctor in doctors:
            for weekday in WEEKDAYS:
                working.setdefault((doctor.clinic_on(weekday), weekday), []).append(doctor.index)
        main_doctors: dict[int, list[int]] = {}
        for doctor in doctors:
            main_doctors.setdefault(doctor.clinics[0], []).append(doctor.index)
        own_doctor = [rng.choice(main_doctors[p.home_clinic]) for p in patients]
        slot_starts = [doctor.slot_starts() for doctor in doctors]
        last_day = [-1] * len(patients)

        for day, count in appointments_per_day(self._total, now.date()):
            weekday, ordinal = day.isoweekday(), day.toordinal()
            taken: set[int] = set()  # doctor index * minutes per day + start minute
            instants: dict[tuple[int, int, int], tuple[datetime, datetime]] = {}
            for _ in range(count):
                for _attempt in range(_MAX_ATTEMPTS):
                    p = bisect.bisect_right(cumulative, rng.random() * total_activity)
                    p = min(p, len(patients) - 1)  # float rounding at the very top
                    if last_day[p] == ordinal:
                        continue
                    clinic = patients[p].home_clinic
                    d = own_doctor[p]
                    if doctors[d].clinic_on(weekday) != clinic or rng.random() >= _OWN_DOCTOR_SHARE:
                        d = rng.choice(working[clinic, weekday])
                    starts = slot_starts[d]
                    minute = starts[rng.randrange(len(starts))]
                    if d * _MINUTES_PER_DAY + minute not in taken:
                        break
                else:
                    raise ValueError(
                        f"no free template slot left on {day}: too many appointments "
                        "for the doctors and patients; add doctors or patients"
                    )
                taken.add(d * _MINUTES_PER_DAY + minute)
                last_day[p] = ordinal
                doctor = doctors[d]
                key = (clinic, minute, doctor.slot_minutes)
                if key not in instants:
                    zone = clinics[clinic].zone
                    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
                    wall = local.replace(tzinfo=zone)
                    instants[key] = (
                        wall.astimezone(UTC),
                        (wall + timedelta(minutes=doctor.slot_minutes)).astimezone(UTC),
                    )
                starts_at, ends_at = instants[key]
                yield self._appointment(p, d, clinic, starts_at, ends_at)

    def _appointment(
        self, p: int, d: int, clinic: int, starts_at: datetime, ends_at: datetime
    ) -> Row:
        rng, now = self._rng, self._now
        patient, doctor = self._world.patients[p], self._world.doctors[d]
        lead = min(rng.expovariate(1 / _MEAN_LEAD_DAYS), _MAX_LEAD_DAYS)
        created_at = starts_at - timedelta(days=lead, minutes=30)
        if created_at >= now:
            # Booked at short notice.
            created_at = now - timedelta(seconds=rng.randrange(60, 3 * 86_400))
        appointment_id = scale_uuid(created_at, rng)
        cancellation_reason: str | None = None
        cancelled_at: datetime | None = None
        if ends_at > now:
            status = AppointmentStatus.SCHEDULED
            updated_at = created_at
        else:
            draw = rng.random()
            if draw < _COMPLETED_SHARE:
                status = AppointmentStatus.COMPLETED
            elif draw < _COMPLETED_SHARE + _CANCELLED_SHARE:
                status = AppointmentStatus.CANCELLED
            else:
                status = AppointmentStatus.NO_SHOW
            if status is AppointmentStatus.CANCELLED:
                cancelled_at = created_at + (starts_at - created_at) * rng.uniform(0.2, 0.99)
                cancellation_reason = rng.choice(_CANCELLATION_REASONS)
                updated_at = cancelled_at
            else:
                updated_at = min(ends_at + timedelta(minutes=rng.randrange(5, 120)), now)
        self.statuses[status] += 1
        if status is AppointmentStatus.COMPLETED and rng.random() < RECORD_SHARE:
            self.record_rows.append(self._record(patient.id, doctor.id, doctor.user_id, ends_at))
        return (
            appointment_id,
            patient.id,
            doctor.id,
            self._world.clinics[clinic].id,
            starts_at,
            ends_at,
            status.value,
            rng.choice(_REASONS),
            cancellation_reason,
            cancelled_at,
            patient.user_id,
            created_at,
            updated_at,
        )

    def _record(
        self,
        patient_id: uuid.UUID,
        doctor_id: uuid.UUID,
        doctor_user_id: uuid.UUID,
        visit_end: datetime,
    ) -> Row:
        rng, now = self._rng, self._now
        kind = rng.choice(_RECORD_KINDS)
        uploaded_at = visit_end + timedelta(minutes=rng.randrange(10, 2 * 24 * 60))
        if uploaded_at > now:
            uploaded_at = visit_end + (now - visit_end) / 2
        # The row is written when the upload starts and confirmed once it is in S3.
        created_at = max(uploaded_at - timedelta(seconds=rng.randrange(1, 120)), visit_end)
        record_id = scale_uuid(created_at, rng)
        return (
            record_id,
            patient_id,
            doctor_id,
            doctor_user_id,
            kind.record_type.value,
            kind.title,
            kind.file_name,
            kind.content_type,
            rng.randrange(kind.min_bytes, kind.max_bytes),
            f"patients/{patient_id}/{record_id}/{kind.file_name}",
            RecordStatus.AVAILABLE.value,
            created_at,
            uploaded_at,
        )
