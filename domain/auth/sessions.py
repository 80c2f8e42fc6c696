"""Sign-in sessions as refresh-token families (RFC 9700 section 4.14).

Every use of a refresh token rotates it. A token that was already rotated and
comes back was stolen or replayed: the whole family is revoked, so the thief's
and the owner's newest tokens both stop working.

Ending a session stops its refresh tokens (the family's row) and, through Redis,
every access token that names it (medappt/auth/revoked_tokens.py). Redis is told
before the database commits: if the commit then fails, the session's access
tokens stop early, which is the safe way round.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.ids import uuid7
from db.models import Doctor, Patient, RefreshToken, RefreshTokenFamily, User
from domain.caller import Caller
from services.auth.revoked_tokens import end_sessions
from services.auth.tokens import ACCESS_TOKEN_LIFETIME, TokenService
from services.errors import Unauthenticated

INVALID_REFRESH = "Invalid or expired refresh token."


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    caller: Caller  # as the new access token will name them
    access_token: str
    refresh_token: str
    expires_in: int


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def _profile_ids(
    session: AsyncSession, user: User
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The user's patient and doctor ids, if the user is still active.

    FOR SHARE on the user's row: a deactivation committing meanwhile waits for this
    sign-in to commit, then ends its session with the others; one that committed
    first is seen here.
    """
    row = (
        await session.execute(
            select(Patient.id, Doctor.id, User.is_active)
            .select_from(User)
            .outerjoin(Patient, Patient.user_id == User.id)
            .outerjoin(Doctor, Doctor.user_id == User.id)
            .where(User.id == user.id)
            .with_for_update(read=True, of=User)
        )
    ).one()
    if not row[2]:
        raise Unauthenticated(INVALID_REFRESH)
    return row[0], row[1]


async def _issue(
    session: AsyncSession, tokens: TokenService, user: User, family_id: uuid.UUID
) -> SignedIn:
    patient_id, doctor_id = await _profile_ids(session, user)
    token_id = uuid7()
    refresh_token, refresh = tokens.issue_refresh(
        user_id=user.id, token_id=token_id, family_id=family_id
    )
    session.add(
        RefreshToken(
            id=token_id,
            family_id=family_id,
            token_hash=_digest(refresh_token),
            expires_at=refresh.expires_at,
        )
    )
    access_token, access = tokens.issue_access(
        user_id=user.id,
        role=user.role,
        family_id=family_id,
        patient_id=patient_id,
        doctor_id=doctor_id,
    )
    await session.flush()
    return SignedIn(
        user=user,
        caller=Caller(
            user_id=user.id,
            role=user.role,
            patient_id=patient_id,
            doctor_id=doctor_id,
            token_id=access.jti,
            token_expires_at=access.expires_at,
            family_id=family_id,
        ),
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
    )


async def sign_in(session: AsyncSession, tokens: TokenService, user: User) -> SignedIn:
    """A new family with its first refresh token. Does not commit."""
    family = RefreshTokenFamily(id=uuid7(), user_id=user.id)
    session.add(family)
    await session.flush()
    return await _issue(session, tokens, user, family.id)


class RefreshTokenReused(Unauthenticated):
    """A rotated token came back; its family is revoked (and that is committed)."""

    def __init__(self, *, family_id: uuid.UUID, user_id: uuid.UUID) -> None:
        super().__init__(INVALID_REFRESH)
        self.family_id = family_id
        self.user_id = user_id


async def rotate(
    sessions: async_sessionmaker[AsyncSession],
    redis: "Redis",
    tokens: TokenService,
    refresh_token: str,
) -> SignedIn:
    claims = tokens.verify_refresh(refresh_token)
    async with sessions.begin() as session:
        # Locked: two concurrent uses of one token cannot both rotate it.
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.id == claims.token_id).with_for_update()
        )
        if row is None or not hmac.compare_digest(row.token_hash, _digest(refresh_token)):
            raise Unauthenticated(INVALID_REFRESH)
        family = await session.get(RefreshTokenFamily, row.family_id)
        now = datetime.now(UTC)
        if family is None or family.revoked_at is not None or row.expires_at <= now:
            raise Unauthenticated(INVALID_REFRESH)
        if row.rotated_at is None:
            row.rotated_at = now
            user = await session.get(User, family.user_id)
            if user is None or not user.is_active:
                raise Unauthenticated(INVALID_REFRESH)
            return await _issue(session, tokens, user, family.id)
        await end_session(session, redis, family.id, reason="refresh token reused")
    # Raised after the commit: the revocation must stick.
    raise RefreshTokenReused(family_id=family.id, user_id=family.user_id)


async def end_session(
    session: AsyncSession,
    redis: "Redis",
    family_id: uuid.UUID,
    *,
    reason: str,
    user_id: uuid.UUID | None = None,
) -> None:
    """End one session; with ``user_id``, only if that user owns it. Does not commit."""
    query = update(RefreshTokenFamily).where(
        RefreshTokenFamily.id == family_id, RefreshTokenFamily.revoked_at.is_(None)
    )
    if user_id is not None:
        query = query.where(RefreshTokenFamily.user_id == user_id)
    ended = await session.scalars(
        query.values(revoked_at=datetime.now(UTC), revoked_reason=reason).returning(
            RefreshTokenFamily.id
        )
    )
    await end_sessions(redis, ended.all())


async def end_every_session(
    session: AsyncSession, redis: "Redis", user_id: uuid.UUID, *, reason: str
) -> None:
    """End all of a user's live sessions (a password set, a deactivation). Does not commit."""
    ended = await session.scalars(
        update(RefreshTokenFamily)
        .where(RefreshTokenFamily.user_id == user_id, RefreshTokenFamily.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
        .returning(RefreshTokenFamily.id)
    )
    await end_sessions(redis, ended.all())
