from datetime import date

import strawberry

from schema.context import Context
from schema.ids import parse_id
from schema.types.doctor import Slot, slots_of_doctor
from services.errors import NotFound


async def resolve_available_slots(
    info: strawberry.Info[Context],
    doctor_id: strawberry.ID,
    date: date,
    clinic_id: strawberry.ID | None = None,
) -> list[Slot]:
    doctor = parse_id(doctor_id, "doctorId")
    clinic = parse_id(clinic_id, "clinicId") if clinic_id is not None else None
    slots = await slots_of_doctor(info, doctor, date, clinic)
    # Only an empty day can hide an unknown doctor: the busiest read (a cached
    # day full of slots) needs no database statement at all.
    if not slots and await info.context.loaders.doctor.load(doctor) is None:
        raise NotFound("No doctor has that id.")
    return slots
