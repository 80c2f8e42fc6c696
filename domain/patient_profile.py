"""A patient changes their own profile: name, birth date, phone, e-mail, consent.

A new phone number or e-mail address is unverified until its owner proves it, so no
appointment message goes to it before; a new e-mail address is sent a link at once.
Changing the address that password resets go to asks for the password: a stolen
session must not become a stolen account.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Patient, User
from domain.administration import KEEP, Keep
from domain.auth.password_change import WrongCurrentPassword
from domain.auth.verification import ask_to_verify_email
from domain.clock import clock
from domain.users import MAX_NAME_LENGTH, normalize_email
from domain.validation import phone_problem, text_problem
from services.errors import BadUserInput, NotFound
from services.passwords import verify_password

PASSWORD_FOR_EMAIL = "Changing the e-mail address needs `currentPassword`, the account's password."


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    name: str | Keep = KEEP
    date_of_birth: date | Keep | None = KEEP
    phone: str | Keep | None = KEEP
    email: str | Keep = KEEP
    sms_opt_in: bool | Keep = KEEP
    email_opt_in: bool | Keep = KEEP
    current_password: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    patient: Patient
    # The new address when the e-mail changed: its verification link is announced.
    new_email: str | None


async def update_profile(
    session: AsyncSession, user_id: uuid.UUID, changes: ProfileChanges
) -> ProfileChanged:
    """Does not commit."""
    row = (
        await session.execute(
            select(Patient, User)
            .join(User, User.id == Patient.user_id)
            .where(Patient.user_id == user_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise NotFound("Only patients have a profile to change.")
    patient, user = row
    if not isinstance(changes.name, Keep):
        if problem := text_problem(changes.name, MAX_NAME_LENGTH, blank=False):
            raise BadUserInput(f"`name`: {problem}.")
        patient.name = changes.name.strip()
    if not isinstance(changes.date_of_birth, Keep):
        if changes.date_of_birth is not None and changes.date_of_birth > clock.now().date():
            raise BadUserInput("`dateOfBirth` must not be in the future.")
        patient.date_of_birth = changes.date_of_birth
    if not isinstance(changes.phone, Keep) and changes.phone != patient.phone:
        if changes.phone is not None and phone_problem(changes.phone):
            raise BadUserInput("`phone` must be in E.164 form, e.g. +14155550123.")
        patient.phone = changes.phone
        patient.phone_verified_at = None
    if not isinstance(changes.sms_opt_in, Keep):
        patient.sms_opt_in = changes.sms_opt_in
    if not isinstance(changes.email_opt_in, Keep):
        patient.email_opt_in = changes.email_opt_in
    new_email = None
    if not isinstance(changes.email, Keep):
        new_email = await _change_email(session, user, changes.email, changes.current_password)
    await session.flush()
    return ProfileChanged(patient=patient, new_email=new_email)


async def _change_email(
    session: AsyncSession, user: User, email: str, current_password: str | None
) -> str | None:
    """The new address, now unverified and sent a link; None if it is the same mailbox."""
    email = normalize_email(email)
    if email.lower() == user.email.lower():
        user.email = email  # the same mailbox, spelt otherwise: still verified
        return None
    if current_password is None:
        raise BadUserInput(PASSWORD_FOR_EMAIL)
    if not await verify_password(user.password_hash, current_password):
        raise WrongCurrentPassword
    taken = await session.scalar(
        select(User.id).where(func.lower(User.email) == email.lower(), User.id != user.id)
    )
    if taken is not None:
        raise BadUserInput(f"A user with e-mail {email} already exists.")
    user.email = email
    user.email_verified_at = None
    try:
        # The unique index decides between two changes to one address at once.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        if "uq_users_email_lower" in str(error.orig):
            raise BadUserInput(f"A user with e-mail {email} already exists.") from None
        raise
    ask_to_verify_email(session, user.id)
    return email
