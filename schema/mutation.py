import strawberry

from resolvers.accounts.change_password import resolve_change_password
from resolvers.accounts.deactivate_user import resolve_deactivate_user
from resolvers.accounts.request_email_verification import resolve_request_email_verification
from resolvers.accounts.request_password_reset import resolve_request_password_reset
from resolvers.accounts.request_phone_verification import resolve_request_phone_verification
from resolvers.accounts.reset_password import resolve_reset_password
from resolvers.accounts.update_my_profile import resolve_update_my_profile
from resolvers.accounts.verify_email import resolve_verify_email
from resolvers.accounts.verify_phone import resolve_verify_phone
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
from resolvers.holds.hold_slot import resolve_hold_slot
from resolvers.holds.release_hold import resolve_release_hold
from resolvers.records_changes.confirm_record_upload import resolve_confirm_record_upload
from resolvers.records_changes.request_record_upload import resolve_request_record_upload
from resolvers.waitlist.accept_waitlist_offer import resolve_accept_waitlist_offer
from resolvers.waitlist.join_waitlist import resolve_join_waitlist
from resolvers.waitlist.leave_waitlist import resolve_leave_waitlist
from schema.checked_arguments import check_arguments
from schema.permissions import IsAdmin
from schema.types.clinic import Clinic
from schema.types.doctor import Doctor
from schema.types.patient import Appointment, Patient
from schema.types.record import MedicalRecord, RecordUpload
from schema.types.schedule import ScheduleException, ScheduleTemplate
from schema.types.user import AuthPayload, User
from schema.types.waitlist import SlotHold, WaitlistEntry


@check_arguments
@strawberry.type
class Mutation:
    register_patient: AuthPayload = strawberry.field(resolver=resolve_register_patient)
    login: AuthPayload = strawberry.field(resolver=resolve_login)
    refresh_token: AuthPayload = strawberry.field(
        resolver=resolve_refresh_token,
        description="Rotates the refresh token; reusing an old one revokes the session.",
    )
    logout: bool = strawberry.field(
        resolver=resolve_logout,
        description="Ends the session: its refresh token and every access token it issued.",
    )

    request_email_verification: bool = strawberry.field(
        resolver=resolve_request_email_verification,
        description="Signed in: e-mails a link (MEDAPPT_PUBLIC_URL/verify-email?token=T), "
        "valid 24 hours, once. True, and nothing sent, when the address is verified.",
    )
    verify_email: User = strawberry.field(resolver=resolve_verify_email)
    request_phone_verification: bool = strawberry.field(
        resolver=resolve_request_phone_verification,
        description="Patient: texts a 6-digit code, valid 10 minutes and 5 tries. True, and "
        "nothing sent, when the number is verified.",
    )
    verify_phone: Patient = strawberry.field(resolver=resolve_verify_phone)
    request_password_reset: bool = strawberry.field(
        resolver=resolve_request_password_reset,
        description="Always true, in the same time, whether or not the address has an "
        "account; e-mails a link (MEDAPPT_PUBLIC_URL/reset-password?token=T), valid 30 "
        "minutes, once.",
    )
    reset_password: AuthPayload = strawberry.field(
        resolver=resolve_reset_password,
        description="Ends every other session of the user.",
    )
    change_password: AuthPayload = strawberry.field(
        resolver=resolve_change_password,
        description="Ends every other session of the user, this one included: use the "
        "returned tokens.",
    )
    update_my_profile: Patient = strawberry.field(resolver=resolve_update_my_profile)
    deactivate_user: User = strawberry.field(
        resolver=resolve_deactivate_user,
        description="Admin: no more sign-ins, and every token of the user stops at once.",
    )

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

    hold_slot: SlotHold = strawberry.field(
        resolver=resolve_hold_slot,
        description="Holds the slot for the patient for MEDAPPT_HOLD_MINUTES, giving up "
        "their earlier hold: a patient holds one slot at a time. Book it with `holdId`.",
    )
    release_hold: bool = strawberry.field(
        resolver=resolve_release_hold,
        description="True if the hold was live; false if it had expired already.",
    )
    join_waitlist: WaitlistEntry = strawberry.field(
        resolver=resolve_join_waitlist,
        description="When a slot in the window frees, the earliest waiting patient is "
        "offered it: held for MEDAPPT_OFFER_MINUTES and told by SMS and e-mail.",
    )
    leave_waitlist: bool = strawberry.field(
        resolver=resolve_leave_waitlist,
        description="Declines any open offer, which passes to the next patient. False if "
        "the entry had ended already.",
    )
    accept_waitlist_offer: Appointment = strawberry.field(
        resolver=resolve_accept_waitlist_offer,
        description="The entry's id: books the offered slot while the offer lasts.",
    )

    request_record_upload: RecordUpload = strawberry.field(
        resolver=resolve_request_record_upload,
        description="A PENDING record and a presigned PUT URL, valid 15 minutes.",
    )
    confirm_record_upload: MedicalRecord = strawberry.field(
        resolver=resolve_confirm_record_upload,
        description="Checks the uploaded document's size, leading bytes and SHA-256, copies "
        "it where no upload URL reaches, then lists the record.",
    )
