"""Values stored in the database and shown through the API under the same names."""

import enum


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    DOCTOR = "DOCTOR"
    PATIENT = "PATIENT"


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"


class RecordType(enum.StrEnum):
    PRESCRIPTION = "PRESCRIPTION"
    LAB_REPORT = "LAB_REPORT"
    IMAGING = "IMAGING"
    VISIT_NOTE = "VISIT_NOTE"
    OTHER = "OTHER"


class RecordStatus(enum.StrEnum):
    PENDING = "PENDING"
    AVAILABLE = "AVAILABLE"


class NotificationKind(enum.StrEnum):
    CONFIRMATION = "CONFIRMATION"
    REMINDER = "REMINDER"
    CANCELLATION = "CANCELLATION"
    RESCHEDULE = "RESCHEDULE"
    WAITLIST_OFFER = "WAITLIST_OFFER"


class WaitlistStatus(enum.StrEnum):
    WAITING = "WAITING"
    OFFERED = "OFFERED"  # a slot is held for the patient until the offer expires
    BOOKED = "BOOKED"
    EXPIRED = "EXPIRED"  # the offer lapsed, or the window passed
    LEFT = "LEFT"


class NotificationChannel(enum.StrEnum):
    SMS = "SMS"
    EMAIL = "EMAIL"


class NotificationStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"  # claimed by one worker until its lease runs out
    SENT = "SENT"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    DEAD = "DEAD"


class AuditOutcome(enum.StrEnum):
    ALLOWED = "ALLOWED"
    DENIED = "DENIED"
    FAILED = "FAILED"


class AccountTokenPurpose(enum.StrEnum):
    """What a one-time secret sent to a user proves when it comes back."""

    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
    PHONE_VERIFICATION = "PHONE_VERIFICATION"
    PASSWORD_RESET = "PASSWORD_RESET"
