"""Recovering a forgotten password: a link e-mailed to the account's address, good once
for 30 minutes; using it sets the password and ends every other session.

Asking answers the same, in the same time, whether or not an account has the address:
the same statements run either way (one lookup, one outbox row), and the worker
e-mails only when the row names an account.
"""

from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AccountTokenPurpose
from db.models import User
from domain.auth.account_tokens import destination_digest, take_link_token
from domain.auth.password_policy import check_new_password
from domain.auth.sessions import SignedIn, end_every_session, sign_in
from domain.auth.verification import INVALID_LINK
from domain.outbox import Topic, announce
from services.auth.tokens import TokenService
from services.errors import BadUserInput
from services.passwords import hash_password


async def ask_for_password_reset(session: AsyncSession, email: str) -> None:
    """Record the request; the worker e-mails a link if an active account has ``email``.
    Does not commit."""
    user_id = await session.scalar(
        select(User.id).where(func.lower(User.email) == email.strip().lower(), User.is_active)
    )
    # A row either way: an unknown address must cost what a known one costs.
    announce(
        session,
        Topic.PASSWORD_RESET_REQUESTED,
        {"user_id": str(user_id) if user_id is not None else None},
    )


async def reset_password(
    session: AsyncSession,
    redis: "Redis",
    tokens: TokenService,
    token: str,
    new_password: str,
) -> SignedIn:
    """Set the password the link allows, end every session, and start a new one.
    Does not commit.

    :raise BadUserInput: the password is not acceptable (the link stays good), or the
        link is unknown, used or expired.
    """
    check_new_password(new_password)
    row = await take_link_token(session, AccountTokenPurpose.PASSWORD_RESET, token)
    user = await session.get(User, row.user_id, with_for_update=True) if row else None
    if row is None or user is None or not user.is_active:
        raise BadUserInput(INVALID_LINK)
    user.password_hash = await hash_password(new_password)
    # Following the link proved the address, if it is still the one it went to.
    if user.email_verified_at is None and row.destination_hash == destination_digest(user.email):
        user.email_verified_at = datetime.now(UTC)
    await end_every_session(session, redis, user.id, reason="password reset")
    return await sign_in(session, tokens, user)
