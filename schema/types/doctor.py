import uuid
from datetime import date
from typing import Annotated

import strawberry

from db import models
from resolvers.schedule_setup import resolve_schedule_exceptions, resolve_schedule_templates
from resolvers.slots import doctor_slots
from schema.checked_arguments import check_arguments
from schema.context import Context
from schema.ids import parse_id
from schema.types.clinic import Clinic
from schema.types.schedule import ScheduleException, ScheduleTemplate
from schema.types.slot import Slot


@check_arguments
@strawberry.type
class Doctor:
    id: strawberry.ID
    name: str
    specialty: str
    active: bool = strawberry.field(
        description="An inactive doctor offers no slots and is not listed; bookings stay."
    )

    @strawberry.field
    async def clinics(self, info: strawberry.Info[Context]) -> list[Clinic]:
        clinics = await info.context.loaders.clinics_of_doctor.load(uuid.UUID(self.id))
        return [Clinic.from_model(clinic) for clinic in clinics]

    @strawberry.field
    async def available_slots(
        self, info: strawberry.Info[Context], date: date, clinic_id: strawberry.ID | None = None
    ) -> list[Slot]:
        clinic = parse_id(clinic_id, "clinicId") if clinic_id is not None else None
        return await doctor_slots(info, uuid.UUID(self.id), date, clinic)

    # Weekly blocks, Monday first.
    @strawberry.field
    async def schedule_templates(self, info: strawberry.Info[Context]) -> list[ScheduleTemplate]:
        return await resolve_schedule_templates(info, uuid.UUID(self.id))

    # When the doctor is away, earliest first: those touching the dates `from` to `to`
    # (inclusive, in the local time of the doctor's clinics). The doctor and admins only.
    @strawberry.field
    async def schedule_exceptions(
        self,
        info: strawberry.Info[Context],
        first_day: Annotated[date | None, strawberry.argument(name="from")] = None,
        last_day: Annotated[date | None, strawberry.argument(name="to")] = None,
    ) -> list[ScheduleException]:
        return await resolve_schedule_exceptions(info, uuid.UUID(self.id), first_day, last_day)

    @classmethod
    def from_model(cls, doctor: models.Doctor) -> "Doctor":
        return cls(
            id=strawberry.ID(str(doctor.id)),
            name=doctor.name,
            specialty=doctor.specialty,
            active=doctor.active,
        )
