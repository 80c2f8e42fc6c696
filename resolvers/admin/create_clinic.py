import strawberry

from domain.clinics import create_clinic
from schema.context import Context
from schema.input_limits import ADDRESS, CLINIC_NAME, TIME_ZONE, limited
from schema.types.clinic import Clinic


@strawberry.input
class CreateClinicInput:
    name: str = strawberry.field(metadata=limited(CLINIC_NAME))
    address: str | None = strawberry.field(default=None, metadata=limited(ADDRESS))
    timezone: str = strawberry.field(
        description="IANA time zone, e.g. Europe/Berlin.", metadata=limited(TIME_ZONE)
    )


async def resolve_create_clinic(info: strawberry.Info[Context], input: CreateClinicInput) -> Clinic:
    async with info.context.sessions.begin() as session:
        clinic = await create_clinic(
            session, name=input.name, address=input.address, timezone=input.timezone
        )
    return Clinic.from_model(clinic)
