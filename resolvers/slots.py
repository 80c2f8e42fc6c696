import uuid
from datetime import date

import strawberry

from domain.availability import DayKey
from domain.errors import NotFound
from schema.context import Context
from schema.ids import parse_id
from schema.types.slot import Slot


async def doctor_slots(
    info: strawberry.Info[Context], doctor_id: uuid.UUID, day: date, clinic_id: uuid.UUID | None
) -> list[Slot]:
    slots = await info.context.loaders.slots.load(DayKey(doctor_id, day, clinic_id))
    clinics = await info.context.services.clinics.get_many({slot.clinic_id for slot in slots})
    return [Slot.of(slot, clinics[slot.clinic_id], doctor_id) for slot in slots]


async def resolve_available_slots(
    info: strawberry.Info[Context],
    doctor_id: strawberry.ID,
    date: date,
    clinic_id: strawberry.ID | None = None,
) -> list[Slot]:
    doctor = parse_id(doctor_id, "doctorId")
    clinic = parse_id(clinic_id, "clinicId") if clinic_id is not None else None
    slots = await doctor_slots(info, doctor, date, clinic)
    # Only an empty day can hide an unknown doctor: the busiest read (a cached
    # day full of slots) needs no database statement at all.
    if not slots and await info.context.loaders.doctor.load(doctor) is None:
        raise NotFound("No doctor has that id.")
    return slots
