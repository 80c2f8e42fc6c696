import uuid
from collections.abc import Mapping

import strawberry

from db import models


@strawberry.type
class Clinic:
    id: strawberry.ID
    name: str
    address: str | None
    timezone: str = strawberry.field(description="IANA time zone, e.g. Europe/Berlin.")
    cancellation_cutoff_hours: int = strawberry.field(
        description="Patients cannot cancel or reschedule this close to the start."
    )

    @classmethod
    def from_model(cls, clinic: models.Clinic) -> "Clinic":
        return cls(
            id=strawberry.ID(str(clinic.id)),
            name=clinic.name,
            address=clinic.address,
            timezone=clinic.timezone,
            cancellation_cutoff_hours=clinic.cancellation_cutoff_hours,
        )


def shown_clinics(rows: Mapping[uuid.UUID, models.Clinic]) -> dict[uuid.UUID, Clinic]:
    """One object per clinic, for every slot of a request that is there."""
    return {clinic_id: Clinic.from_model(row) for clinic_id, row in rows.items()}
