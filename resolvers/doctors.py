from typing import Annotated

import strawberry

from domain.doctors import doctor_cursor, list_doctors
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import CURSOR, SPECIALTY_FILTER, limited
from schema.pages import cursor, page_size
from schema.types.connection import Connection
from schema.types.doctor import Doctor


async def resolve_doctors(
    info: strawberry.Info[Context],
    specialty: Annotated[
        str | None, strawberry.argument(metadata=limited(SPECIALTY_FILTER))
    ] = None,
    clinic_id: strawberry.ID | None = None,
    first: int | None = 20,
    after: Annotated[str | None, strawberry.argument(metadata=limited(CURSOR))] = None,
) -> Connection[Doctor]:
    async with info.context.sessions() as session:
        page = await list_doctors(
            session,
            first=page_size(first),
            after=cursor(after),
            specialty=specialty,
            clinic_id=parse_id(clinic_id, "clinicId") if clinic_id is not None else None,
        )
    return Connection.from_page(page, Doctor.from_model, doctor_cursor)


async def resolve_doctor(info: strawberry.Info[Context], id: strawberry.ID) -> Doctor | None:
    doctor = await info.context.loaders.doctor.load(parse_id(id))
    return Doctor.from_model(doctor) if doctor is not None else None
