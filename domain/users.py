from datetime import date
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Role
from db.ids import uuid7
from db.models import Doctor, Patient, User
from domain.errors import BadUserInput
from medappt.passwords import hash_password

MIN_PASSWORD_LENGTH: Final = 8
DEFAULT_SPECIALTY: Final = "General Practice"


def normalize_email(email: str) -> str:
    email = email.strip()
    local, _, domain = email.rpartition("@")
    if not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 320:
        raise BadUserInput(f"{email!r} is not a valid e-mail address.")
    return f"{local}@{domain.lower()}"


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
) -> User:
    """A user with the profile its role needs (a doctor or a patient). Does not commit."""
    email = normalize_email(email)
    name = name.strip()
    if not name:
        raise BadUserInput("`name` must not be empty.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = User(id=uuid7(), email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    try:
        # The unique index on lower(email) decides, also between concurrent sign-ups.
        await session.flush()
    except IntegrityError as error:
        if "uq_users_email_lower" in str(error.orig):
            raise BadUserInput(f"A user with e-mail {email} already exists.") from None
        raise
    if role is Role.DOCTOR:
        session.add(Doctor(user_id=user.id, name=name, specialty=specialty or DEFAULT_SPECIALTY))
    elif role is Role.PATIENT:
        session.add(Patient(user_id=user.id, name=name, date_of_birth=date_of_birth, phone=phone))
    await session.flush()
    return user
