from datetime import datetime
from zoneinfo import ZoneInfo

import strawberry

from db import models
from domain.errors import Forbidden
from schema.context import Context
from schema.types.clinic import Clinic
from schema.types.doctor import Doctor
from schema.types.enums import AppointmentStatus
from schema.types.notification import Notification
from schema.types.patient import Patient


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
        if not (caller.is_admin or caller.patient_id == self.row.patient_id):
            raise Forbidden("Only the patient and administrators may see its notifications.")
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
