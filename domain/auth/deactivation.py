"""Deactivating a user: no more sign-ins, and every token of theirs stops at once."""

import uuid
from typing import Final

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from domain.auth.sessions import end_every_session
from domain.caller import Caller
from services.errors import BadUserInput, NotFound

NOT_YOURSELF: Final = "You cannot deactivate your own account."


async def deactivate_user(
    session: AsyncSession, redis: "Redis", admin: Caller, user_id: uuid.UUID
) -> User:
    """Does not commit. Deactivating twice changes nothing the second time."""
    if user_id == admin.user_id:
        # An administrator who locks themselves out may be the last one.
        raise BadUserInput(NOT_YOURSELF)
    # FOR UPDATE waits for a sign-in in progress (it holds FOR SHARE), whose new
    # session is then ended with the others.
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No user has that id.")
    user.is_active = False
    await session.flush()
    await end_every_session(session, redis, user.id, reason="deactivated")
    return user
