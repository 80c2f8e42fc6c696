import strawberry

from domain.administration import DoctorChanges, Keep, update_doctor
from resolvers.admin.changes import given
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import PERSON_NAME, SPECIALTY, limited
from schema.types.doctor import Doctor


@strawberry.input(description="Fields left out keep their values.")
class UpdateDoctorInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, metadata=limited(PERSON_NAME))
    specialty: str | None = strawberry.field(default=strawberry.UNSET, metadata=limited(SPECIALTY))
    clinic_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Every clinic the doctor works at; leaving one removes the templates "
        "there, and is refused while the doctor has appointments there.",
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="An inactive doctor offers no slots and is not listed; bookings stay.",
    )


async def resolve_update_doctor(
    info: strawberry.Info[Context], id: strawberry.ID, input: UpdateDoctorInput
) -> Doctor:
    context = info.context
    clinic_ids = given(input.clinic_ids, "clinicIds")
    changes = DoctorChanges(
        name=given(input.name, "name"),
        specialty=given(input.specialty, "specialty"),
        clinic_ids=(
            clinic_ids
            if isinstance(clinic_ids, Keep)
            else [parse_id(id_, "clinicIds") for id_ in clinic_ids]
        ),
        active=given(input.active, "active"),
    )
    async with context.sessions.begin() as session:
        doctor, stale = await update_doctor(session, parse_id(id), changes)
    await context.slot_cache.invalidate_days(stale)
    return Doctor.from_model(doctor)
