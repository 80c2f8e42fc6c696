from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from services.passwords import DECOY_HASH, hash_password, needs_rehash, verify_password


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    user: User | None  # the account the e-mail names, if any
    valid: bool


async def check_credentials(session: AsyncSession, email: str, password: str) -> CredentialCheck:
    """Whether the password is right for the account; rehashes it when our parameters
    have grown since it was set. Does not commit."""
    user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        await verify_password(DECOY_HASH, password)
        return CredentialCheck(user=None, valid=False)
    valid = user.is_active and await verify_password(user.password_hash, password)
    if valid and needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return CredentialCheck(user=user, valid=valid)
