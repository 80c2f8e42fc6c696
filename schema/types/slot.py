from datetime import datetime

import strawberry

from db import models
from domain.slot_grid import Slot as SlotValue
from schema.types.clinic import Clinic


@strawberry.type
class Slot:
    starts_at: datetime
    ends_at: datetime
    available: bool
    clinic_row: strawberry.Private[models.Clinic]

    # A plain field: a day's slots come with their clinics, not one await each.
    @strawberry.field
    def clinic(self) -> Clinic:
        return Clinic.from_model(self.clinic_row)

    @classmethod
    def of(cls, slot: SlotValue, clinic: models.Clinic) -> "Slot":
        return cls(
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            available=slot.available,
            clinic_row=clinic,
        )
