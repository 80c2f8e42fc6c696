"""The whole data model; importing this package registers every table on Base.metadata."""

from db.models.account_tokens import AccountToken
from db.models.appointments import Appointment
from db.models.audit import AuditEntry
from db.models.clinics import Clinic
from db.models.doctors import Doctor, DoctorClinic
from db.models.holds import SlotClaim, SlotHold
from db.models.notifications import Notification
from db.models.outbox import OutboxMessage
from db.models.patients import Patient
from db.models.records import MedicalRecord
from db.models.schedules import ScheduleException, ScheduleTemplate
from db.models.tokens import RefreshToken, RefreshTokenFamily
from db.models.users import User
from db.models.waitlist import WaitlistEntry

__all__ = [
    "AccountToken",
    "Appointment",
    "AuditEntry",
    "Clinic",
    "Doctor",
    "DoctorClinic",
    "MedicalRecord",
    "Notification",
    "OutboxMessage",
    "Patient",
    "RefreshToken",
    "RefreshTokenFamily",
    "ScheduleException",
    "ScheduleTemplate",
    "SlotClaim",
    "SlotHold",
    "User",
    "WaitlistEntry",
]
