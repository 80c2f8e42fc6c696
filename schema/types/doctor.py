"""A doctor and their slots. Each refers to the other (Doctor.availableSlots,
Slot.doctor), so they live in one module rather than two that import each other."""

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from db import models
from domain.access import require_doctor_or_admin
from domain.records import ListedDoctor
from domain.slot_grid import Slot as SlotValue
from loaders.schedules import ExceptionsKey
from schema.checked_arguments import check_arguments
from schema.context import Context
from schema.ids import parse_id
from schema.types.clinic import Clinic, shown_clinics
from schema.types.schedule import ScheduleException, ScheduleTemplate
from services.slot_cache import DayKey


async def slots_of_doctor(
    info: strawberry.Info[Context], doctor_id: uuid.UUID, day: date, clinic_id: uuid.UUID | None
) -> list["Slot"]:
    slots = await info.context.loaders.slots.load(DayKey(doctor_id, day, clinic_id))
    rows = await info.context.services.clinics.get_many({slot.clinic_id for slot in slots})
    clinics = shown_clinics(rows)
    return [Slot.of(slot, clinics[slot.clinic_id], doctor_id) for slot in slots]


@strawberry.type
class Slot:
    starts_at: datetime
    ends_at: datetime
    available: bool
    # A plain field: a day's slots come with their clinics (shown_clinics), not one
    # await or one object each.
    clinic: Clinic
    doctor_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def doctor(self, info: strawberry.Info[Context]) -> "Doctor":
        doctor = await info.context.loaders.doctor.load(self.doctor_id)
        assert doctor is not None  # a slot comes from the doctor's own templates
        return Doctor.from_model(doctor)

    @classmethod
    def of(cls, slot: SlotValue, clinic: Clinic, doctor_id: uuid.UUID) -> "Slot":
        return cls(
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            available=slot.available,
            clinic=clinic,
            doctor_id=doctor_id,
        )


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
        return await slots_of_doctor(info, uuid.UUID(self.id), date, clinic)

    # Weekly blocks, Monday first.
    @strawberry.field
    async def schedule_templates(self, info: strawberry.Info[Context]) -> list[ScheduleTemplate]:
        templates = await info.context.loaders.schedule_templates.load(uuid.UUID(self.id))
        return [ScheduleTemplate.from_model(template) for template in templates]

    # When the doctor is away, earliest first: those touching the dates `from` to `to`
    # (inclusive, in the local time of the doctor's clinics). The doctor and admins only.
    @strawberry.field
    async def schedule_exceptions(
        self,
        info: strawberry.Info[Context],
        first_day: Annotated[date | None, strawberry.argument(name="from")] = None,
        last_day: Annotated[date | None, strawberry.argument(name="to")] = None,
    ) -> list[ScheduleException]:
        doctor_id = uuid.UUID(self.id)
        caller = info.context.require_caller()
        # A reason for being away is nobody else's business.
        require_doctor_or_admin(
            caller, doctor_id, "Only the doctor and administrators may see when the doctor is away."
        )
        key = ExceptionsKey(doctor_id, first_day, last_day)
        exceptions = await info.context.loaders.schedule_exceptions.load(key)
        return [ScheduleException.from_model(exception) for exception in exceptions]

    @classmethod
    def from_model(cls, doctor: models.Doctor | ListedDoctor) -> "Doctor":
        return cls(
            id=strawberry.ID(str(doctor.id)),
            name=doctor.name,
            specialty=doctor.specialty,
            active=doctor.active,
        )
