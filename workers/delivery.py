"""Sending one recorded message: at most once once it is recorded as sent."""

import logging
import random
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, NotificationChannel, NotificationKind, NotificationStatus
from db.models import Notification
from domain.notifications import appointment_facts
from medappt.settings import Settings
from workers.channels.base import Channel, PermanentSendError, RetryableSendError
from workers.messages import render

logger = logging.getLogger("medappt.notifications")


class RetryLater(Exception):
    """The provider may accept it later: try again after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.1f}s")
        self.seconds = seconds


def backoff_seconds(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Exponential, with jitter so that retries after an outage do not arrive together:
    base * 2**(attempt-1), scaled by 0.8 to 1.2 (60 s base: 1, 2, 4, 8, 16 minutes)."""
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return base * 2.0 ** (attempt - 1) * jitter


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    channels: dict[NotificationChannel, Channel],
    settings: Settings,
    notification_id: uuid.UUID,
) -> NotificationStatus:
    """Send the message if it is still PENDING and still true; record the outcome.

    The attempt is counted and committed before the provider is called, and the
    row is checked again before each attempt, so a message recorded as SENT is
    never sent again, whoever runs this job and however often.
    """
    async with sessions.begin() as session:
        notification = await session.scalar(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        )
        if notification is None or notification.status is not NotificationStatus.PENDING:
            return notification.status if notification else NotificationStatus.SKIPPED
        facts = await appointment_facts(session, notification.appointment_id)
        assert facts is not None  # notifications cascade with their appointment
        reason = _stale(
            notification, facts.appointment.status, facts.appointment.starts_at, settings
        )
        address = facts.address(notification.channel)
        if reason is None and address is None:
            reason = "no consent or no address for this channel"
        if reason is not None:
            notification.status, notification.last_error = NotificationStatus.SKIPPED, reason
            return NotificationStatus.SKIPPED
        notification.attempts += 1
        attempt, kind, channel = notification.attempts, notification.kind, notification.channel
    assert address is not None
    subject, body = render(kind, facts)
    try:
        delivery = await channels[channel].send(to=address, subject=subject, body=body)
    except RetryableSendError as error:
        dead = attempt >= settings.notify_max_attempts
        await _record(
            sessions, notification_id, NotificationStatus.DEAD if dead else None, str(error)
        )
        if dead:
            return NotificationStatus.DEAD
        wait = backoff_seconds(attempt, settings.notify_retry_base_seconds)
        raise RetryLater(max(wait, float(error.retry_after or 0))) from error
    except PermanentSendError as error:
        await _record(sessions, notification_id, NotificationStatus.FAILED, str(error))
        return NotificationStatus.FAILED
    async with sessions.begin() as session:
        sent = await session.get_one(Notification, notification_id)
        sent.status, sent.sent_at = NotificationStatus.SENT, datetime.now(UTC)
        sent.provider_message_id, sent.last_error = delivery.provider_message_id, None
    logger.info(
        "sent %s %s %s as %s",
        kind.value,
        channel.value,
        notification_id,
        delivery.provider_message_id,
    )
    return NotificationStatus.SENT


def _stale(
    notification: Notification,
    status: AppointmentStatus,
    starts_at: datetime,
    settings: Settings,
) -> str | None:
    """Why a reminder no longer tells the truth, if it does not."""
    if notification.kind is not NotificationKind.REMINDER:
        return None
    if status is not AppointmentStatus.SCHEDULED:
        return f"appointment is {status.value}"
    if notification.scheduled_for not in {
        starts_at - offset for offset in settings.reminder_offsets
    }:
        return "appointment moved"
    return None


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    notification_id: uuid.UUID,
    status: NotificationStatus | None,
    error: str,
) -> None:
    async with sessions.begin() as session:
        notification = await session.get_one(Notification, notification_id)
        notification.last_error = error[:2000]
        if status is not None:
            notification.status = status
