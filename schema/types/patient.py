import uuid
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.patients import PatientProfile
from medappt.context import Context
from resolvers.access_log import resolve_access_log
from schema.checked_arguments import check_arguments
from schema.input_limits import CURSOR, limited
from schema.types.access_log import AccessLogEntry
from schema.types.connection import Connection
from schema.types.enums import AppointmentStatus, RecordType

if TYPE_CHECKING:
    from schema.types.appointment import Appointment
    from schema.types.record import MedicalRecord


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
    ) -> Connection[Annotated["Appointment", strawberry.lazy("schema.types.appointment")]]:
        # Imported here: appointments and patients refer to each other.
        from resolvers.appointments import resolve_patient_appointments  # noqa: PLC0415

        return await resolve_patient_appointments(info, uuid.UUID(self.id), first, after, status)

    @strawberry.field
    async def records(
        self,
        info: strawberry.Info[Context],
        first: int | None = 20,
        after: CursorArgument = None,
        record_type: RecordType | None = None,
    ) -> Connection[Annotated["MedicalRecord", strawberry.lazy("schema.types.record")]]:
        # Imported here: records name their doctor, whose module reaches back here.
        from resolvers.records import resolve_patient_records  # noqa: PLC0415

        return await resolve_patient_records(info, uuid.UUID(self.id), first, after, record_type)

    # Who read this patient's data and when: for the patient and admins.
    @strawberry.field
    async def access_log(
        self, info: strawberry.Info[Context], first: int | None = 20, after: CursorArgument = None
    ) -> Connection[AccessLogEntry]:
        return await resolve_access_log(info, uuid.UUID(self.id), first, after)

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
