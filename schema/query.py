import strawberry

from resolvers.auth.me import resolve_me
from resolvers.clinics import resolve_clinics
from resolvers.doctors import resolve_doctor, resolve_doctors
from resolvers.patients import resolve_patient
from schema.types.clinic import Clinic
from schema.types.connection import Connection
from schema.types.doctor import Doctor
from schema.types.patient import Patient
from schema.types.user import User


@strawberry.type
class Query:
    me: User | None = strawberry.field(resolver=resolve_me)
    clinics: list[Clinic] = strawberry.field(resolver=resolve_clinics)
    doctors: Connection[Doctor] = strawberry.field(
        resolver=resolve_doctors, description="Newest first; `first` at most 100."
    )
    doctor: Doctor | None = strawberry.field(resolver=resolve_doctor)
    patient: Patient | None = strawberry.field(resolver=resolve_patient)
