import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from db import models
from domain.slot_grid import Slot as SlotValue
from schema.context import Context
from schema.types.clinic import Clinic

if TYPE_CHECKING:
    from schema.types.doctor import Doctor


@strawberry.type
class Slot:
    starts_at: datetime
    ends_at: datetime
    available: bool
    clinic_row: strawberry.Private[models.Clinic]
    doctor_id: strawberry.Private[uuid.UUID]

    # A plain field: a day's slots come with their clinics, not one await each.
    @strawberry.field
    def clinic(self) -> Clinic:
        return Clinic.from_model(self.clinic_row)

    @strawberry.field
    async def doctor(
        self, info: strawberry.Info[Context]
    ) -> Annotated["Doctor", strawberry.lazy("schema.types.doctor")]:
        # Imported here: a doctor's fields list slots.
        from schema.types.doctor import Doctor  # noqa: PLC0415

        doctor = await info.context.loaders.doctor.load(self.doctor_id)
        assert doctor is not None  # a slot comes from the doctor's own templates
        return Doctor.from_model(doctor)

    @classmethod
    def of(cls, slot: SlotValue, clinic: models.Clinic, doctor_id: uuid.UUID) -> "Slot":
        return cls(
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            available=slot.available,
            clinic_row=clinic,
            doctor_id=doctor_id,
        )
