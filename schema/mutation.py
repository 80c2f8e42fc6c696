import strawberry

from resolvers.admin.add_schedule_exception import resolve_add_schedule_exception
from resolvers.admin.add_schedule_template import resolve_add_schedule_template
from resolvers.admin.create_clinic import resolve_create_clinic
from resolvers.admin.create_doctor import resolve_create_doctor
from resolvers.admin.remove_schedule_exception import resolve_remove_schedule_exception
from resolvers.admin.remove_schedule_template import resolve_remove_schedule_template
from resolvers.admin.update_clinic import resolve_update_clinic
from resolvers.admin.update_doctor import resolve_update_doctor
from resolvers.appointment_changes.book_appointment import resolve_book_appointment
from resolvers.appointment_changes.cancel_appointment import resolve_cancel_appointment
from resolvers.appointment_changes.reschedule_appointment import resolve_reschedule_appointment
from resolvers.appointment_changes.set_appointment_status import resolve_set_appointment_status
from resolvers.auth.login import resolve_login
from resolvers.auth.logout import resolve_logout
from resolvers.auth.refresh_token import resolve_refresh_token
from resolvers.auth.register_patient import resolve_register_patient
from resolvers.records_changes.confirm_record_upload import resolve_confirm_record_upload
from resolvers.records_changes.request_record_upload import resolve_request_record_upload
from schema.checked_arguments import check_arguments
from schema.permissions import IsAdmin
from schema.types.clinic import Clinic
from schema.types.doctor import Doctor
from schema.types.patient import Appointment
from schema.types.record import MedicalRecord, RecordUpload
from schema.types.schedule import ScheduleException, ScheduleTemplate
from schema.types.user import AuthPayload


@check_arguments
@strawberry.type
class Mutation:
    register_patient: AuthPayload = strawberry.field(resolver=resolve_register_patient)
    login: AuthPayload = strawberry.field(resolver=resolve_login)
    refresh_token: AuthPayload = strawberry.field(
        resolver=resolve_refresh_token,
        description="Rotates the refresh token; reusing an old one revokes the session.",
    )
    logout: bool = strawberry.field(resolver=resolve_logout)

    create_clinic: Clinic = strawberry.field(
        resolver=resolve_create_clinic, permission_classes=[IsAdmin]
    )
    create_doctor: Doctor = strawberry.field(
        resolver=resolve_create_doctor, permission_classes=[IsAdmin]
    )
    add_schedule_template: ScheduleTemplate = strawberry.field(
        resolver=resolve_add_schedule_template, permission_classes=[IsAdmin]
    )
    add_schedule_exception: ScheduleException = strawberry.field(
        resolver=resolve_add_schedule_exception, permission_classes=[IsAdmin]
    )
    update_clinic: Clinic = strawberry.field(
        resolver=resolve_update_clinic, permission_classes=[IsAdmin]
    )
    update_doctor: Doctor = strawberry.field(
        resolver=resolve_update_doctor, permission_classes=[IsAdmin]
    )
    remove_schedule_template: bool = strawberry.field(
        resolver=resolve_remove_schedule_template,
        permission_classes=[IsAdmin],
        description="Booked appointments stay; the weekday offers no new slots from it.",
    )
    remove_schedule_exception: bool = strawberry.field(
        resolver=resolve_remove_schedule_exception, permission_classes=[IsAdmin]
    )

    book_appointment: Appointment = strawberry.field(resolver=resolve_book_appointment)
    cancel_appointment: Appointment = strawberry.field(resolver=resolve_cancel_appointment)
    reschedule_appointment: Appointment = strawberry.field(
        resolver=resolve_reschedule_appointment,
        description="Atomic: if the new time is taken, the old booking stays as it was.",
    )
    set_appointment_status: Appointment = strawberry.field(
        resolver=resolve_set_appointment_status,
        description="Doctor or admin, after the start: COMPLETED or NO_SHOW.",
    )

    request_record_upload: RecordUpload = strawberry.field(
        resolver=resolve_request_record_upload,
        description="A PENDING record and a presigned PUT URL, valid 15 minutes.",
    )
    confirm_record_upload: MedicalRecord = strawberry.field(
        resolver=resolve_confirm_record_upload,
        description="Checks the uploaded object's size and type, then lists the record.",
    )
