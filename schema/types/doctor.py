import uuid
from datetime import date

import strawberry

from db import models
from medappt.context import Context
from resolvers.slots import doctor_slots
from schema.checked_arguments import check_arguments
from schema.ids import parse_id
from schema.types.clinic import Clinic
from schema.types.slot import Slot


@check_arguments
@strawberry.type
class Doctor:
    id: strawberry.ID
    name: str
    specialty: str

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

    @classmethod
    def from_model(cls, doctor: models.Doctor) -> "Doctor":
        return cls(id=strawberry.ID(str(doctor.id)), name=doctor.name, specialty=doctor.specialty)
