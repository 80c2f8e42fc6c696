import strawberry

from resolvers.appointments import resolve_appointment, resolve_doctor_schedule
from resolvers.auth.me import resolve_me
from resolvers.clinics import resolve_clinics
from resolvers.doctors import resolve_doctor, resolve_doctors
from resolvers.patients import resolve_patient
from resolvers.slots import resolve_available_slots
from schema.checked_arguments import check_arguments
from schema.types.appointment import Appointment
from schema.types.clinic import Clinic
from schema.types.connection import Connection
from schema.types.doctor import Doctor
from schema.types.patient import Patient
from schema.types.slot import Slot
from schema.types.user import User


@check_arguments
@strawberry.type
class Query:
    me: User | None = strawberry.field(resolver=resolve_me)
    clinics: list[Clinic] = strawberry.field(resolver=resolve_clinics)
    doctors: Connection[Doctor] = strawberry.field(
        resolver=resolve_doctors, description="Newest first; `first` at most 100."
    )
    doctor: Doctor | None = strawberry.field(resolver=resolve_doctor)
    available_slots: list[Slot] = strawberry.field(resolver=resolve_available_slots)
    patient: Patient | None = strawberry.field(resolver=resolve_patient)
    appointment: Appointment | None = strawberry.field(resolver=resolve_appointment)
    doctor_schedule: list[Appointment] = strawberry.field(resolver=resolve_doctor_schedule)
