"""A patient and their appointments. Each refers to the other (Patient.appointments,
Appointment.patient), so they live in one module rather than two that import each other."""

import uuid
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from db import models
from domain.access import require_patient_or_admin
from domain.access_log import access_log, access_log_cursor, check_may_read_access_log
from domain.appointments import appointment_cursor, patient_appointments
from domain.clock import clock
from domain.patients import PatientProfile
from domain.records import RecordsQuery, record_cursor
from domain.waitlist import patient_waitlist
from loaders.records import RecordsKey
from schema.checked_arguments import check_arguments
from schema.context import Context
from schema.input_limits import CURSOR, limited
from schema.pages import cursor, page_size
from schema.types.access_log import AccessLogEntry
from schema.types.clinic import Clinic
from schema.types.connection import Connection
from schema.types.doctor import Doctor
from schema.types.enums import AppointmentStatus, RecordType
from schema.types.notification import Notification
from schema.types.record import MedicalRecord, asked_links
from schema.types.waitlist import WaitlistEntry, clinic_rows
from services.errors import Forbidden

# Pages of a patient's data: cursors come back from clients.
CursorArgument = Annotated[str | None, strawberry.argument(metadata=limited(CURSOR))]


@check_arguments
@strawberry.type
class Patient:
    id: strawberry.ID
    name: str
    date_of_birth: date | None
    email: str | None
    phone: str | None
    phone_verified: bool = strawberry.field(
        description="The owner typed the code texted to this number; appointment texts go "
        "only to a verified number."
    )
    sms_opt_in: bool
    email_opt_in: bool

    @strawberry.field
    async def appointments(
        self,
        info: strawberry.Info[Context],
        first: int | None = 20,
        after: CursorArgument = None,
        status: list[AppointmentStatus] | None = None,
    ) -> Connection["Appointment"]:
        patient_id = uuid.UUID(self.id)
        context = info.context
        context.audit.allowed("patient.appointments.read", patient_id=patient_id)
        async with context.sessions() as session:
            page = await patient_appointments(
                session, patient_id, first=page_size(first), after=cursor(after), statuses=status
            )
        return Connection.from_page(page, Appointment.from_model, appointment_cursor)

    @strawberry.field
    async def records(
        self,
        info: strawberry.Info[Context],
        first: int | None = 20,
        after: CursorArgument = None,
        record_type: RecordType | None = None,
    ) -> Connection[MedicalRecord]:
        patient_id = uuid.UUID(self.id)
        context = info.context
        context.audit.allowed("patient.records.read", patient_id=patient_id)
        query = RecordsQuery(first=page_size(first), after=cursor(after), record_type=record_type)
        result = await context.loaders.records.load(RecordsKey(patient_id, query))
        records = result.page.items
        links = await asked_links(info, records)
        # One object per doctor of the page, shared by their records.
        doctors = {id_: Doctor.from_model(doctor) for id_, doctor in result.doctors.items()}
        nodes = [
            MedicalRecord.from_model(
                record,
                doctors[record.doctor_id] if record.doctor_id is not None else None,
                link,
            )
            for record, link in zip(records, links, strict=True)
        ]
        return Connection.of_nodes(result.page, nodes, record_cursor)

    # Entries of the patient, newest first: all of them for the patient and admins, a
    # doctor's own for a doctor (where else they wait is none of theirs).
    @strawberry.field
    async def waitlist(self, info: strawberry.Info[Context]) -> list[WaitlistEntry]:
        patient_id = uuid.UUID(self.id)
        context = info.context
        caller = context.require_caller()
        context.audit.allowed("patient.waitlist.read", patient_id=patient_id)
        everything = caller.is_admin or caller.patient_id == patient_id
        if not (everything or caller.doctor_id):
            return []
        async with context.sessions() as session:
            entries = await patient_waitlist(
                session, patient_id, None if everything else caller.doctor_id
            )
        clinics = await clinic_rows(info, list({entry.clinic_id for entry in entries}))
        now = clock.now()
        return [WaitlistEntry.of(entry, clinics[entry.clinic_id], now) for entry in entries]

    # Who read this patient's data and when: for the patient and admins.
    @strawberry.field
    async def access_log(
        self, info: strawberry.Info[Context], first: int | None = 20, after: CursorArgument = None
    ) -> Connection[AccessLogEntry]:
        patient_id = uuid.UUID(self.id)
        context = info.context
        try:
            check_may_read_access_log(context.require_caller(), patient_id)
        except Forbidden:
            context.audit.denied("patient.access_log.read", patient_id=patient_id)
            raise
        context.audit.allowed("patient.access_log.read", patient_id=patient_id)
        async with context.sessions() as session:
            page = await access_log(
                session, patient_id, first=page_size(first), after=cursor(after)
            )
        return Connection.from_page(page, AccessLogEntry.from_row, access_log_cursor)

    @classmethod
    def from_profile(cls, profile: PatientProfile) -> "Patient":
        patient = profile.patient
        return cls(
            id=strawberry.ID(str(patient.id)),
            name=patient.name,
            date_of_birth=patient.date_of_birth,
            email=profile.email,
            phone=patient.phone,
            phone_verified=patient.phone_verified_at is not None,
            sms_opt_in=patient.sms_opt_in,
            email_opt_in=patient.email_opt_in,
        )


@strawberry.type
class Appointment:
    id: strawberry.ID
    status: AppointmentStatus
    reason: str | None
    cancellation_reason: str | None
    created_at: datetime
    row: strawberry.Private[models.Appointment]

    async def _clinic(self, info: strawberry.Info[Context]) -> models.Clinic:
        clinics = await info.context.services.clinics.get_many([self.row.clinic_id])
        return clinics[self.row.clinic_id]  # a foreign key guarantees it

    async def _zone(self, info: strawberry.Info[Context]) -> ZoneInfo:
        return ZoneInfo((await self._clinic(info)).timezone)

    # Times are in the clinic's local time, with its UTC offset.
    @strawberry.field
    async def starts_at(self, info: strawberry.Info[Context]) -> datetime:
        return self.row.starts_at.astimezone(await self._zone(info))

    @strawberry.field
    async def ends_at(self, info: strawberry.Info[Context]) -> datetime:
        return self.row.ends_at.astimezone(await self._zone(info))

    @strawberry.field
    async def patient(self, info: strawberry.Info[Context]) -> Patient:
        profile = await info.context.loaders.readable_patient.load(self.row.patient_id)
        assert profile is not None  # a foreign key guarantees it
        return Patient.from_profile(profile)

    @strawberry.field
    async def doctor(self, info: strawberry.Info[Context]) -> Doctor:
        doctor = await info.context.loaders.doctor.load(self.row.doctor_id)
        assert doctor is not None
        return Doctor.from_model(doctor)

    @strawberry.field
    async def clinic(self, info: strawberry.Info[Context]) -> Clinic:
        return Clinic.from_model(await self._clinic(info))

    # What was sent to the patient about it: for the patient and admins.
    @strawberry.field
    async def notifications(self, info: strawberry.Info[Context]) -> list[Notification]:
        caller = info.context.require_caller()
        require_patient_or_admin(
            caller,
            self.row.patient_id,
            "Only the patient and administrators may see its notifications.",
        )
        rows = await info.context.loaders.notifications.load(self.row.id)
        return [Notification.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, appointment: models.Appointment) -> "Appointment":
        return cls(
            id=strawberry.ID(str(appointment.id)),
            status=appointment.status,
            reason=appointment.reason,
            cancellation_reason=appointment.cancellation_reason,
            created_at=appointment.created_at,
            row=appointment,
        )
