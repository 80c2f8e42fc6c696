"""Access tokens that stop before they expire, remembered in Redis until they would have.

Two kinds of entry: one access token (logout names the token it was sent with), and a
whole sign-in session (its refresh-token family): every access token that carries the
session's id stops at once when it ends. One round trip checks both for a request: the
door's, with the rate limits (schema/limits/door.py), or :func:`is_revoked`.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.auth.tokens import ACCESS_TOKEN_LIFETIME

# An access token of an ended session lives at most ACCESS_TOKEN_LIFETIME after its
# issue, which was before the end (a refresh racing the end may issue one a moment
# later): the margin covers that moment.
SESSION_ENTRY_SECONDS = int(ACCESS_TOKEN_LIFETIME.total_seconds()) + 60


def _token_key(token_id: str) -> str:
    return f"auth:revoked:{token_id}"


def _session_key(session_id: uuid.UUID) -> str:
    return f"auth:ended-session:{session_id}"


async def revoke(redis: "Redis", token_id: str, expires_at: datetime) -> None:
    seconds = int((expires_at - datetime.now(UTC)).total_seconds()) + 1
    if seconds > 0:
        await redis.set(_token_key(token_id), b"1", ex=seconds)


async def end_sessions(redis: "Redis", session_ids: Iterable[uuid.UUID]) -> None:
    """Stop every access token of these sessions, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for session_id in session_ids:
            pipe.set(_session_key(session_id), b"1", ex=SESSION_ENTRY_SECONDS)
        await pipe.execute()


def revocation_keys(token_id: str, session_id: uuid.UUID) -> tuple[str, str]:
    """The entries that stop a token: its own, and its session's. Either present, it stops."""
    return _token_key(token_id), _session_key(session_id)


async def is_revoked(redis: "Redis", token_id: str, session_id: uuid.UUID) -> bool:
    """Whether the token, or the session it belongs to, has been stopped: one EXISTS."""
    return bool(await redis.exists(*revocation_keys(token_id, session_id)))
