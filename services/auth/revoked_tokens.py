"""Access tokens revoked before they expire (logout), remembered in Redis until then."""

from datetime import UTC, datetime

from redis.asyncio import Redis


def _key(token_id: str) -> str:
    return f"auth:revoked:{token_id}"


async def revoke(redis: "Redis", token_id: str, expires_at: datetime) -> None:
    seconds = int((expires_at - datetime.now(UTC)).total_seconds()) + 1
    if seconds > 0:
        await redis.set(_key(token_id), b"1", ex=seconds)


async def is_revoked(redis: "Redis", token_id: str) -> bool:
    return bool(await redis.exists(_key(token_id)))
