"""Holds and waitlist entries. Times are in the clinic's local time, with its offset."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import strawberry

from db import models
from domain.waitlist import shown_status
from schema.context import Context
from schema.types.clinic import Clinic
from schema.types.doctor import Doctor
from schema.types.enums import WaitlistStatus


async def clinic_rows(
    info: strawberry.Info[Context], clinic_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, models.Clinic]:
    return await info.context.services.clinics.get_many(clinic_ids)


@strawberry.type(description="A slot kept for one patient until `expiresAt`.")
class SlotHold:
    id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, hold: models.SlotHold, clinic: models.Clinic) -> "SlotHold":
        zone = ZoneInfo(clinic.timezone)
        return cls(
            id=strawberry.ID(str(hold.id)),
            starts_at=hold.starts_at.astimezone(zone),
            ends_at=hold.ends_at.astimezone(zone),
            expires_at=hold.expires_at.astimezone(zone),
        )


@strawberry.type(description="A freed slot held for a waiting patient until `expiresAt`.")
class SlotOffer:
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


@strawberry.type
class WaitlistEntry:
    id: strawberry.ID
    status: WaitlistStatus
    from_: datetime = strawberry.field(name="from")
    to: datetime
    offer: SlotOffer | None = strawberry.field(
        description="The slot offered, while the offer lasts and after it was answered."
    )
    clinic_row: strawberry.Private[models.Clinic]
    doctor_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    def clinic(self) -> Clinic:
        return Clinic.from_model(self.clinic_row)

    @strawberry.field
    async def doctor(self, info: strawberry.Info[Context]) -> Doctor:
        doctor = await info.context.loaders.doctor.load(self.doctor_id)
        assert doctor is not None  # a foreign key guarantees it
        return Doctor.from_model(doctor)

    @classmethod
    def of(
        cls, entry: models.WaitlistEntry, clinic: models.Clinic, now: datetime
    ) -> "WaitlistEntry":
        zone = ZoneInfo(clinic.timezone)
        offer = None
        if (
            entry.offer_starts_at is not None
            and entry.offer_ends_at is not None
            and entry.offer_expires_at is not None
        ):
            offer = SlotOffer(
                starts_at=entry.offer_starts_at.astimezone(zone),
                ends_at=entry.offer_ends_at.astimezone(zone),
                expires_at=entry.offer_expires_at.astimezone(zone),
            )
        return cls(
            id=strawberry.ID(str(entry.id)),
            status=shown_status(entry, now),
            from_=entry.window_from.astimezone(zone),
            to=entry.window_to.astimezone(zone),
            offer=offer,
            clinic_row=clinic,
            doctor_id=entry.doctor_id,
        )
