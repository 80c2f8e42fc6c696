"""Where the demo appointments fall and which records they leave, relative to a given day."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from db.enums import AppointmentStatus, RecordType
from devtools.demo.data import DOCTORS, PATIENTS, DemoClinic, DemoDoctor, DemoPatient, demo_id
from devtools.demo.documents import render_pdf, render_png

_REASONS = (
    "Annual check-up",
    "Follow-up visit",
    "Persistent headache",
    "Skin rash",
    "Blood pressure review",
    "Back pain",
    "Vaccination",
    "Test results discussion",
)
_CANCELLATION_REASONS = ("Patient is travelling", "Feeling better", "Schedule conflict")


@dataclass(frozen=True, slots=True)
class _RecordKind:
    record_type: RecordType
    title: str
    file_name: str


_RECORD_KINDS = (
    _RecordKind(RecordType.VISIT_NOTE, "Visit note", "visit-note.pdf"),
    _RecordKind(RecordType.LAB_REPORT, "Blood panel results", "blood-panel.pdf"),
    _RecordKind(RecordType.PRESCRIPTION, "Prescription", "prescription.pdf"),
    _RecordKind(RecordType.IMAGING, "X-ray image", "x-ray.png"),
    _RecordKind(RecordType.OTHER, "Referral letter", "referral-letter.pdf"),
)

# Past appointments end at least a whole day before ``today`` and future ones start
# on the day after it, in every clinic's zone whatever the hour in UTC.
_FIRST_PAST_DAY, _FIRST_FUTURE_DAY = -2, 1
_SEARCH_DAYS = 60


@dataclass(frozen=True, slots=True)
class PlannedAppointment:
    id: uuid.UUID
    patient: DemoPatient
    doctor: DemoDoctor
    clinic: DemoClinic
    starts_at: datetime
    ends_at: datetime
    status: AppointmentStatus
    reason: str
    cancellation_reason: str | None
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class PlannedRecord:
    id: uuid.UUID
    patient: DemoPatient
    doctor: DemoDoctor
    record_type: RecordType
    title: str
    file_name: str
    content_type: str
    body: bytes
    uploaded_at: datetime

    @property
    def s3_key(self) -> str:
        return f"patients/{self.patient.id}/{self.id}/{self.file_name}"


@dataclass(frozen=True, slots=True)
class DemoPlan:
    appointments: tuple[PlannedAppointment, ...]
    records: tuple[PlannedRecord, ...]


def build_plan(today: date) -> DemoPlan:
    """Every patient gets 2-3 past and 1-2 upcoming appointments and 2-4 records."""
    calendar = _Calendar()
    appointments: list[PlannedAppointment] = []
    records: list[PlannedRecord] = []
    for patient in PATIENTS:
        n = patient.number
        doctors = [doctor for doctor in DOCTORS if patient.home_clinic in doctor.clinics]
        past = [
            _appointment(
                calendar,
                demo_id("appointment", n, "past", k),
                patient,
                doctors[(n + k) % len(doctors)],
                today + timedelta(days=_FIRST_PAST_DAY - 9 * k - n % 17),
                step=-1,
                status=_past_status(n, k),
                reason=_REASONS[(n + k) % len(_REASONS)],
            )
            for k in range(2 + n % 2)
        ]
        future = [
            _appointment(
                calendar,
                demo_id("appointment", n, "future", k),
                patient,
                doctors[(n + k + 1) % len(doctors)],
                today + timedelta(days=_FIRST_FUTURE_DAY + 7 * k + n % 13),
                step=1,
                status=AppointmentStatus.SCHEDULED,
                reason=_REASONS[(n + k + 3) % len(_REASONS)],
            )
            for k in range(1 + (n % 3 == 0))
        ]
        appointments += past + future
        completed = [a for a in past if a.status is AppointmentStatus.COMPLETED]
        records += [_record(patient, j, completed[j % len(completed)]) for j in range(2 + n % 3)]
    return DemoPlan(tuple(appointments), tuple(records))


def _past_status(patient_number: int, k: int) -> AppointmentStatus:
    # The latest past visit is always completed, so every patient has records to show.
    if k != 1:
        return AppointmentStatus.COMPLETED
    return (
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.COMPLETED,
    )[patient_number % 3]


def _appointment(
    calendar: "_Calendar",
    appointment_id: uuid.UUID,
    patient: DemoPatient,
    doctor: DemoDoctor,
    day: date,
    *,
    step: int,
    status: AppointmentStatus,
    reason: str,
) -> PlannedAppointment:
    clinic = patient.home_clinic
    starts_at, ends_at = calendar.book(doctor, clinic, patient, day, step)
    cancelled = status is AppointmentStatus.CANCELLED
    return PlannedAppointment(
        id=appointment_id,
        patient=patient,
        doctor=doctor,
        clinic=clinic,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        reason=reason,
        cancellation_reason=(
            _CANCELLATION_REASONS[patient.number % len(_CANCELLATION_REASONS)]
            if cancelled
            else None
        ),
        cancelled_at=starts_at - timedelta(days=1) if cancelled else None,
    )


def _record(patient: DemoPatient, j: int, visit: PlannedAppointment) -> PlannedRecord:
    kind = _RECORD_KINDS[(patient.number + j) % len(_RECORD_KINDS)]
    doctor = visit.doctor
    # The content leaves out dates: a document re-uploaded on another day must match
    # the size that the first load stored in the database.
    if kind.record_type is RecordType.IMAGING:
        content_type, body = "image/png", render_png(patient.number * 10 + j)
    else:
        lines = [
            f"Patient: {patient.name}, born {patient.date_of_birth.isoformat()}",
            f"Doctor: {doctor.name}, {doctor.specialty}",
            "Demo document generated by medappt; not a real medical record.",
        ]
        content_type, body = "application/pdf", render_pdf(kind.title, lines)
    return PlannedRecord(
        id=demo_id("record", patient.number, j),
        patient=patient,
        doctor=doctor,
        record_type=kind.record_type,
        title=kind.title,
        file_name=kind.file_name,
        content_type=content_type,
        body=body,
        uploaded_at=visit.ends_at + timedelta(hours=2),
    )


class _Calendar:
    """The bookings placed so far, so that each new one goes to a free template slot."""

    def __init__(self) -> None:
        self._busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}

    def book(
        self, doctor: DemoDoctor, clinic: DemoClinic, patient: DemoPatient, day: date, step: int
    ) -> tuple[datetime, datetime]:
        """The first free slot from ``day`` on, walking by ``step`` days.

        Within a day the search starts at a slot picked from the patient's number,
        so the bookings spread over the day instead of piling up at opening time.
        """
        for offset in range(_SEARCH_DAYS):
            slots = doctor_slots(doctor, clinic, day + timedelta(days=offset * step))
            for index in range(len(slots)):
                start, end = slots[(patient.number * 5 + index) % len(slots)]
                if self._free(doctor.id, start, end) and self._free(patient.id, start, end):
                    self._busy.setdefault(doctor.id, []).append((start, end))
                    self._busy.setdefault(patient.id, []).append((start, end))
                    return start, end
        raise RuntimeError(f"no free slot for doctor {doctor.number} near {day}")

    def _free(self, owner: uuid.UUID, start: datetime, end: datetime) -> bool:
        return all(end <= s or e <= start for s, e in self._busy.get(owner, ()))


def doctor_slots(
    doctor: DemoDoctor, clinic: DemoClinic, day: date
) -> list[tuple[datetime, datetime]]:
    """The doctor's template slots at the clinic on a local calendar day, in UTC."""
    zone = ZoneInfo(clinic.timezone)
    length = timedelta(minutes=doctor.slot_minutes)
    slots = []
    for block in doctor.blocks:
        if block.clinic != clinic or block.day_of_week != day.isoweekday():
            continue
        # Step in local wall time, then convert: a slot keeps its local hour across DST.
        start = datetime.combine(day, block.start)
        block_end = datetime.combine(day, block.end)
        while start + length <= block_end:
            local_start = start.replace(tzinfo=zone)
            slots.append((local_start.astimezone(UTC), (local_start + length).astimezone(UTC)))
            start += length
    return slots
