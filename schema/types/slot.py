from datetime import datetime

import strawberry

from domain.slot_grid import Slot as SlotValue
from medappt.context import Context
from schema.types.clinic import Clinic


@strawberry.type
class Slot:
    starts_at: datetime
    ends_at: datetime
    available: bool
    value: strawberry.Private[SlotValue]

    @strawberry.field
    async def clinic(self, info: strawberry.Info[Context]) -> Clinic:
        clinic = await info.context.loaders.clinic.load(self.value.clinic_id)
        assert clinic is not None  # slots come from the clinic's own templates
        return Clinic.from_model(clinic)

    @classmethod
    def of(cls, slot: SlotValue) -> "Slot":
        return cls(
            starts_at=slot.starts_at, ends_at=slot.ends_at, available=slot.available, value=slot
        )
