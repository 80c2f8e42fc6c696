import strawberry

from schema.context import Context
from schema.ids import parse_id
from schema.types.patient import Patient


async def resolve_patient(info: strawberry.Info[Context], id: strawberry.ID) -> Patient | None:
    profile = await info.context.loaders.readable_patient.load(parse_id(id))
    return Patient.from_profile(profile) if profile is not None else None
