"""Proving that an address is the user's: a link for the e-mail, a 6-digit code for the phone.

Asking writes an outbox row; the worker makes the secret and sends it (workers/
account_messages.py). A secret proves only the address it was sent to: after a
change of address, an old link or code verifies nothing.
"""

import uuid
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AccountTokenPurpose
from db.models import Patient, User
from domain.auth.account_tokens import destination_digest, take_link_token, take_phone_code
from domain.outbox import Topic, announce
from services.errors import BadUserInput

INVALID_LINK: Final = "This link is not valid: it was used, has expired, or a newer one was sent."
WRONG_CODE: Final = "That code is not right, or it has expired; ask for a new one."


def ask_to_verify_email(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A link to the user's address, sent once this transaction commits."""
    announce(session, Topic.EMAIL_VERIFICATION_REQUESTED, {"user_id": str(user_id)})


def ask_to_verify_phone(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A code to the patient's phone, sent once this transaction commits."""
    announce(session, Topic.PHONE_VERIFICATION_REQUESTED, {"user_id": str(user_id)})


async def verify_email(session: AsyncSession, token: str) -> User:
    """The user whose address the link proves, now verified. Does not commit.

    :raise BadUserInput: the link is unknown, used, expired, or for another address.
    """
    row = await take_link_token(session, AccountTokenPurpose.EMAIL_VERIFICATION, token)
    user = await session.get(User, row.user_id, with_for_update=True) if row else None
    if row is None or user is None or row.destination_hash != destination_digest(user.email):
        raise BadUserInput(INVALID_LINK)
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
    return user


async def verify_phone(session: AsyncSession, user_id: uuid.UUID, code: str) -> Patient | None:
    """The patient whose phone the code proves, now verified; None when the code is not
    the one sent to the current number (the failed try is counted: commit anyway)."""
    patient = await session.scalar(
        select(Patient).where(Patient.user_id == user_id).with_for_update()
    )
    if patient is None:
        return None
    row = await take_phone_code(session, user_id, code)
    if row is None or patient.phone is None:
        return None
    if row.destination_hash != destination_digest(patient.phone):
        return None
    if patient.phone_verified_at is None:
        patient.phone_verified_at = datetime.now(UTC)
    return patient
