"""What each string a caller sends must satisfy, declared next to the argument or
input field that takes it (``metadata=limited(...)``), and checked by
``schema.checked_arguments`` before any resolver runs.

Lengths come from the columns the values are stored in, so the two cannot drift.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Appointment, Clinic, Doctor, MedicalRecord, Patient, User
from domain.auth.password_policy import MAX_PASSWORD_LENGTH, password_problem
from domain.booking import MAX_REASON_LENGTH
from domain.validation import (
    MAX_EMAIL_LENGTH,
    email_problem,
    phone_problem,
    text_problem,
    zone_problem,
)

LIMIT: Final = "medappt.limit"


class Limit(Protocol):
    def problem(self, value: str) -> str | None:
        """What is wrong with ``value``, or None."""
        ...


def limited(limit: Limit) -> Mapping[str, Limit]:
    """Field or argument metadata that declares ``limit``."""
    return {LIMIT: limit}


@dataclass(frozen=True, slots=True)
class Text:
    max_length: int
    multiline: bool = False
    blank: bool = True

    @classmethod
    def of(cls, column: "InstrumentedAttribute[str | None]", *, blank: bool = True) -> "Text":
        """As long as ``column`` (a ``String(n)``) can hold."""
        column_type = column.expression.type
        assert isinstance(column_type, String)
        assert column_type.length is not None
        return cls(column_type.length, blank=blank)

    def problem(self, value: str) -> str | None:
        return text_problem(value, self.max_length, multiline=self.multiline, blank=self.blank)


@dataclass(frozen=True, slots=True)
class Email:
    def problem(self, value: str) -> str | None:
        return text_problem(value, MAX_EMAIL_LENGTH) or email_problem(value)


@dataclass(frozen=True, slots=True)
class Phone:
    def problem(self, value: str) -> str | None:
        return phone_problem(value)


@dataclass(frozen=True, slots=True)
class TimeZone:
    def problem(self, value: str) -> str | None:
        return zone_problem(value)


@dataclass(frozen=True, slots=True)
class Sha256Hex:
    def problem(self, value: str) -> str | None:
        if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
            return None
        return "64 hexadecimal digits, the SHA-256 of the file"


@dataclass(frozen=True, slots=True)
class NewPassword:
    def problem(self, value: str) -> str | None:
        return password_problem(value)


PERSON_NAME: Final = Text.of(Patient.name, blank=False)
CLINIC_NAME: Final = Text.of(Clinic.name, blank=False)
# Stored as text; long enough for any postal address on a few lines.
ADDRESS: Final = Text(500, multiline=True)
SPECIALTY: Final = Text.of(Doctor.specialty, blank=False)
SPECIALTY_FILTER: Final = Text.of(Doctor.specialty)
REASON: Final = Text(MAX_REASON_LENGTH, multiline=True)
IDEMPOTENCY_KEY: Final = Text.of(Appointment.idempotency_key, blank=False)
RECORD_TITLE: Final = Text.of(MedicalRecord.title, blank=False)
FILE_NAME: Final = Text.of(MedicalRecord.file_name, blank=False)
CONTENT_TYPE: Final = Text.of(MedicalRecord.content_type)
# Signing in only compares: any address an account may have, as stored.
LOGIN_EMAIL: Final = Text.of(User.email)
PASSWORD: Final = Text(MAX_PASSWORD_LENGTH)
NEW_EMAIL: Final = Email()
NEW_PASSWORD: Final = NewPassword()
PHONE: Final = Phone()
SHA256_HEX: Final = Sha256Hex()
TIME_ZONE: Final = TimeZone()
# For a string whose field declares no limit (tests/test_bad_input_limits.py lists them).
UNDECLARED: Final = Text(1000)
# Our own cursors and tokens are far shorter; anything longer is not one of them.
CURSOR: Final = Text(256)
TOKEN: Final = Text(4096)
# A phone code is 6 digits; room for spaces a person may type around them.
VERIFICATION_CODE: Final = Text(16)
