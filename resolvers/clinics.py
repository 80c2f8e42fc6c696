import strawberry

from domain.clinics import list_clinics
from schema.context import Context
from schema.types.clinic import Clinic


async def resolve_clinics(info: strawberry.Info[Context]) -> list[Clinic]:
    async with info.context.sessions() as session:
        clinics = await list_clinics(session)
    return [Clinic.from_model(clinic) for clinic in clinics]
