"""Claims: one worker at a time owns the send of a message, for a lease that expires.

A message is claimed (SENDING, with a lease) in a committed transaction before
the provider is called, so a second job for the same message (a duplicate after
a lost acknowledgement, a rescan while a slow provider answers) finds it claimed
and leaves it. A worker that dies mid-send leaves a lease that runs out, and the
rescan hands the message to another worker then. Leases and retry times are on
the database's clock, the one clock every worker shares.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import NotificationStatus
from db.models import Notification


@dataclass(frozen=True, slots=True)
class LockedMessage:
    notification: Notification
    database_now: datetime

    @property
    def claimable(self) -> bool:
        """PENDING and past any retry wait, or SENDING under a lease that ran out."""
        row, now = self.notification, self.database_now
        if row.status is NotificationStatus.PENDING:
            return row.next_attempt_at is None or row.next_attempt_at <= now
        return row.status is NotificationStatus.SENDING and (
            row.claim_expires_at is not None and row.claim_expires_at <= now
        )


async def lock_message(session: AsyncSession, notification_id: uuid.UUID) -> LockedMessage | None:
    """The message, locked until the transaction ends, with the database's time."""
    row = (
        await session.execute(
            select(Notification, func.now())
            .where(Notification.id == notification_id)
            .with_for_update(of=Notification)
        )
    ).one_or_none()
    return None if row is None else LockedMessage(row[0], row[1])


def take_claim(locked: LockedMessage, lease: timedelta) -> int:
    """Mark the message as being sent by us until the lease ends; returns the attempt
    number, which names the claim. Does not commit: the claim counts once committed."""
    row = locked.notification
    row.status = NotificationStatus.SENDING
    row.attempts += 1
    row.claim_expires_at = locked.database_now + lease
    row.next_attempt_at = None
    return row.attempts


def skip(locked: LockedMessage, reason: str) -> None:
    row = locked.notification
    row.status, row.last_error = NotificationStatus.SKIPPED, reason
    row.claim_expires_at = None


async def settle(
    session: AsyncSession,
    notification_id: uuid.UUID,
    attempt: int,
    *,
    status: NotificationStatus,
    error: str | None = None,
    provider_message_id: str | None = None,
    retry_in: float | None = None,
) -> bool:
    """Record how attempt ``attempt`` ended and release the claim. False if the claim
    was no longer ours (its lease ran out and another worker took it over)."""
    values: dict[str, object] = {"status": status, "claim_expires_at": None, "last_error": error}
    if status is NotificationStatus.SENT:
        values |= {"sent_at": func.now(), "provider_message_id": provider_message_id}
    if retry_in is not None:
        values["next_attempt_at"] = func.now() + timedelta(seconds=retry_in)
    result = await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == NotificationStatus.SENDING,
            Notification.attempts == attempt,
        )
        .values(**values)
        .returning(Notification.id)
    )
    return result.first() is not None


def ready_to_send(now: datetime) -> ColumnElement[bool]:
    """PENDING, due by the calendar (``now``) and past any retry wait; or SENDING
    under a lease that ran out, its worker having died or stalled mid-send."""
    return or_(
        and_(
            Notification.status == NotificationStatus.PENDING,
            Notification.scheduled_for <= now,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= func.now()),
        ),
        and_(
            Notification.status == NotificationStatus.SENDING,
            Notification.claim_expires_at <= func.now(),
        ),
    )
