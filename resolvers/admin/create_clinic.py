import strawberry

from domain.caller import require_admin
from domain.clinics import create_clinic
from medappt.context import Context
from schema.types.clinic import Clinic


@strawberry.input
class CreateClinicInput:
    name: str
    address: str | None = None
    timezone: str = strawberry.field(description="IANA time zone, e.g. Europe/Berlin.")


async def resolve_create_clinic(info: strawberry.Info[Context], input: CreateClinicInput) -> Clinic:
    require_admin(info.context.caller)
    async with info.context.sessions.begin() as session:
        clinic = await create_clinic(
            session, name=input.name, address=input.address, timezone=input.timezone
        )
    return Clinic.from_model(clinic)
