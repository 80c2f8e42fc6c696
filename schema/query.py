import strawberry

from resolvers.appointments import resolve_appointment, resolve_doctor_schedule
from resolvers.auth.me import resolve_me
from resolvers.clinic_report import resolve_clinic_report
from resolvers.clinics import resolve_clinics
from resolvers.doctors import resolve_doctor, resolve_doctors
from resolvers.my_patients import resolve_my_patients
from resolvers.patients import resolve_patient
from resolvers.schedule import resolve_schedule
from resolvers.search_slots import resolve_search_slots
from resolvers.slots import resolve_available_slots
from schema.checked_arguments import check_arguments
from schema.permissions import IsAdmin
from schema.types.clinic import Clinic
from schema.types.connection import Connection
from schema.types.doctor import Doctor, Slot
from schema.types.patient import Appointment, Patient
from schema.types.report import DoctorReportRow
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
    search_slots: Connection[Slot] = strawberry.field(
        resolver=resolve_search_slots,
        description="Available slots across doctors, earliest first; `first` at most 100.",
    )
    schedule: list[Appointment] = strawberry.field(
        resolver=resolve_schedule,
        description="A doctor's appointments on the clinic-local dates `from` to `to` "
        "(inclusive, at most 31 days). For the doctor and administrators.",
    )
    my_patients: Connection[Patient] = strawberry.field(
        resolver=resolve_my_patients,
        description="A doctor's patients (an administrator's: all), newest first; `search` "
        "matches any part of the name or e-mail address, in any case.",
    )
    clinic_report: list[DoctorReportRow] = strawberry.field(
        resolver=resolve_clinic_report,
        permission_classes=[IsAdmin],
        description="Administrators: per doctor, on the clinic-local dates `from` to `to` "
        "(inclusive, at most 366 days). Read from the analytics database.",
    )
