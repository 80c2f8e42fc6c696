import strawberry

from resolvers.clinics import resolve_clinics
from resolvers.doctors import resolve_doctor, resolve_doctors
from schema.types.clinic import Clinic
from schema.types.connection import Connection
from schema.types.doctor import Doctor


@strawberry.type
class Query:
    clinics: list[Clinic] = strawberry.field(resolver=resolve_clinics)
    doctors: Connection[Doctor] = strawberry.field(
        resolver=resolve_doctors, description="Newest first; `first` at most 100."
    )
    doctor: Doctor | None = strawberry.field(resolver=resolve_doctor)
