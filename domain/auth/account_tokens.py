"""One-time secrets sent to a user: a link's token, or a 6-digit phone code.

Only a SHA-256 of each is stored. A secret is good once, for a short while, for the
address it was sent to; expiry is security, not calendar, so it is on the system
clock. A phone code has a few tries; then it is used up.
"""

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AccountTokenPurpose
from db.ids import uuid7
from db.models import AccountToken

LIFETIMES: Final = {
    AccountTokenPurpose.EMAIL_VERIFICATION: timedelta(hours=24),
    AccountTokenPurpose.PHONE_VERIFICATION: timedelta(minutes=10),
    AccountTokenPurpose.PASSWORD_RESET: timedelta(minutes=30),
}
MAX_CODE_ATTEMPTS: Final = 5
CODE_DIGITS: Final = 6


def destination_digest(address: str) -> bytes:
    return hashlib.sha256(address.strip().lower().encode()).digest()


def _link_hash(token: str) -> bytes:
    # 256 random bits: a plain hash is as strong as the token.
    return hashlib.sha256(token.encode()).digest()


def _code_hash(token_id: uuid.UUID, code: str) -> bytes:
    # Salted with the row's id, so two users' equal codes do not share a hash. Six digits
    # are few: the code's short life and its few tries are what protect it.
    return hashlib.sha256(token_id.bytes + code.encode()).digest()


def _now() -> datetime:
    return datetime.now(UTC)


async def _retire(session: AsyncSession, user_id: uuid.UUID, purpose: AccountTokenPurpose) -> None:
    """Earlier secrets of this purpose stop: only the newest one sent counts."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=_now())
    )


async def mint_link_token(
    session: AsyncSession, user_id: uuid.UUID, purpose: AccountTokenPurpose, destination: str
) -> str:
    """A new secret for a link to ``destination``; earlier ones of the purpose stop.
    Does not commit."""
    await _retire(session, user_id, purpose)
    token = secrets.token_urlsafe(32)
    now = _now()
    session.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            secret_hash=_link_hash(token),
            destination_hash=destination_digest(destination),
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def mint_phone_code(session: AsyncSession, user_id: uuid.UUID, phone: str) -> str:
    """A new 6-digit code for ``phone``; earlier codes stop. Does not commit."""
    purpose = AccountTokenPurpose.PHONE_VERIFICATION
    await _retire(session, user_id, purpose)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token_id = uuid7()
    now = _now()
    session.add(
        AccountToken(
            id=token_id,
            user_id=user_id,
            purpose=purpose,
            secret_hash=_code_hash(token_id, code),
            destination_hash=destination_digest(phone),
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    await session.flush()
    return code


async def take_link_token(
    session: AsyncSession, purpose: AccountTokenPurpose, token: str
) -> AccountToken | None:
    """The live secret ``token`` names, now used up; None if there is none. Does not commit."""
    row = await session.scalar(
        select(AccountToken)
        .where(AccountToken.secret_hash == _link_hash(token), AccountToken.purpose == purpose)
        # Locked: two uses of one link at once cannot both succeed.
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= _now():
        return None
    row.used_at = _now()
    return row


async def take_phone_code(
    session: AsyncSession, user_id: uuid.UUID, code: str
) -> AccountToken | None:
    """The user's live phone code if ``code`` is it, now used up; else None, with the
    failed try counted (the caller commits either way)."""
    row = await session.scalar(
        select(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == AccountTokenPurpose.PHONE_VERIFICATION,
            AccountToken.used_at.is_(None),
        )
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.expires_at <= _now():
        return None
    if not hmac.compare_digest(row.secret_hash, _code_hash(row.id, code)):
        row.failed_attempts += 1
        if row.failed_attempts >= MAX_CODE_ATTEMPTS:
            row.used_at = _now()
        return None
    row.used_at = _now()
    return row
