import uuid

import strawberry

from db import models
from medappt.context import Context
from schema.types.clinic import Clinic


@strawberry.type
class Doctor:
    id: strawberry.ID
    name: str
    specialty: str

    @strawberry.field
    async def clinics(self, info: strawberry.Info[Context]) -> list[Clinic]:
        clinics = await info.context.loaders.clinics_of_doctor.load(uuid.UUID(self.id))
        return [Clinic.from_model(clinic) for clinic in clinics]

    @classmethod
    def from_model(cls, doctor: models.Doctor) -> "Doctor":
        return cls(id=strawberry.ID(str(doctor.id)), name=doctor.name, specialty=doctor.specialty)
