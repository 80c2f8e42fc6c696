from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Role
from db.ids import uuid7
from db.models import Doctor, Patient, User
from domain.auth.password_policy import check_new_password
from domain.clock import clock
from domain.validation import email_problem, phone_problem, text_problem
from services.errors import BadUserInput
from services.passwords import hash_password

DEFAULT_SPECIALTY: Final = "General Practice"
MAX_NAME_LENGTH: Final = 200  # the name columns of doctors and patients


@dataclass(frozen=True, slots=True)
class NewUser:
    user: User
    patient: Patient | None
    doctor: Doctor | None


def normalize_email(email: str) -> str:
    email = email.strip()
    if email_problem(email) is not None:
        raise BadUserInput(f"{email!r} is not a valid e-mail address.")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _check_profile(name: str, password: str, date_of_birth: date | None, phone: str | None) -> None:
    if not name.strip():
        raise BadUserInput("`name` must not be empty.")
    if problem := text_problem(name, MAX_NAME_LENGTH):
        raise BadUserInput(f"`name`: {problem}.")
    check_new_password(password)
    if date_of_birth is not None and date_of_birth > clock.now().date():
        raise BadUserInput("`dateOfBirth` must not be in the future.")
    if phone is not None and phone_problem(phone):
        raise BadUserInput("`phone` must be in E.164 form, e.g. +14155550123.")


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: Role,
    name: str,
    specialty: str | None = None,
    date_of_birth: date | None = None,
    phone: str | None = None,
    sms_opt_in: bool = True,
    email_opt_in: bool = True,
) -> NewUser:
    """A user with the profile its role needs (a doctor or a patient). Does not commit."""
    email = normalize_email(email)
    _check_profile(name, password, date_of_birth, phone)
    user = User(id=uuid7(), email=email, password_hash=await hash_password(password), role=role)
    session.add(user)
    try:
        # The unique index on lower(email) decides, also between concurrent sign-ups.
        await session.flush()
    except IntegrityError as error:
        if "uq_users_email_lower" in str(error.orig):
            raise BadUserInput(f"A user with e-mail {email} already exists.") from None
        raise
    patient = doctor = None
    if role is Role.DOCTOR:
        doctor = Doctor(
            user_id=user.id, name=name.strip(), specialty=specialty or DEFAULT_SPECIALTY
        )
        session.add(doctor)
    elif role is Role.PATIENT:
        patient = Patient(
            user_id=user.id,
            name=name.strip(),
            date_of_birth=date_of_birth,
            phone=phone,
            sms_opt_in=sms_opt_in,
            email_opt_in=email_opt_in,
        )
        session.add(patient)
    await session.flush()
    return NewUser(user=user, patient=patient, doctor=doctor)
