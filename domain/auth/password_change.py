"""Changing a password while signed in: the current one first, then every session ends
and a new one starts, so a thief who had a session loses it."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from domain.auth.password_policy import check_new_password
from domain.auth.sessions import SignedIn, end_every_session, sign_in
from services.auth.login_limits import LoginLimiter
from services.auth.tokens import TokenService
from services.errors import BadUserInput, Unauthenticated
from services.passwords import hash_password, verify_password

WRONG_CURRENT_PASSWORD: Final = "The current password is not right."


class WrongCurrentPassword(BadUserInput):
    """Counted as a failed sign-in: a stolen access token must not become a way to
    guess the password."""

    def __init__(self) -> None:
        super().__init__(WRONG_CURRENT_PASSWORD)


async def change_password(
    session: AsyncSession,
    redis: "Redis",
    tokens: TokenService,
    user_id: uuid.UUID,
    *,
    current_password: str,
    new_password: str,
) -> SignedIn:
    """Does not commit.

    :raise WrongCurrentPassword: ``current_password`` is not the user's password.
    :raise BadUserInput: ``new_password`` is not acceptable.
    """
    user = await session.get(User, user_id, with_for_update=True)
    if user is None or not user.is_active:
        raise Unauthenticated("Sign in first.")
    if not await verify_password(user.password_hash, current_password):
        raise WrongCurrentPassword
    check_new_password(new_password)
    user.password_hash = await hash_password(new_password)
    await end_every_session(session, redis, user.id, reason="password changed")
    return await sign_in(session, tokens, user)


@asynccontextmanager
async def password_attempt(redis: "Redis", email: str, ip: str | None) -> AsyncIterator[None]:
    """Around a check of a signed-in user's password (changing it, or the e-mail address):
    a wrong one counts as a failed sign-in, anything else does not."""
    limiter = LoginLimiter(redis)
    await limiter.reserve(email, ip)
    try:
        yield
    except WrongCurrentPassword:
        raise
    except BaseException:
        await limiter.release(email, ip)
        raise
    await limiter.release(email, ip)
