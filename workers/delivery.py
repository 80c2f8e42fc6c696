"""Sending one recorded message under a claim, so that it goes out once."""

import asyncio
import logging
import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, NotificationChannel, NotificationKind, NotificationStatus
from db.models import Notification
from domain.clock import clock
from domain.message_claims import lock_message, settle, skip, take_claim
from domain.notifications import AppointmentFacts, appointment_facts
from domain.offer_messages import OfferFacts, offer_facts
from services.metrics import NOTIFICATIONS
from services.settings import Settings
from workers.channels.base import Channel, PermanentSendError, RetryableSendError
from workers.messages import render

logger = logging.getLogger("medappt.notifications")

CLAIM_MARGIN_SECONDS = 60.0
# Every series from the start, so that rates and dashboards see zeros, not gaps.
_OUTCOMES = ("SENT", "FAILED", "DEAD", "SKIPPED", "RETRY")
for _channel in NotificationChannel:
    for _outcome in _OUTCOMES:
        NOTIFICATIONS.labels(channel=_channel.value, status=_outcome)


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


def claim_lease(settings: Settings) -> timedelta:
    """Longer than any send can take: the provider's whole deadline, plus room for
    the commits around it and a busy event loop. While it lasts nobody else sends."""
    return timedelta(seconds=settings.notify_provider_timeout_seconds + CLAIM_MARGIN_SECONDS)


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    channels: dict[NotificationChannel, Channel],
    settings: Settings,
    notification_id: uuid.UUID,
) -> NotificationStatus:
    """Send the message if it is ready and still true, under a claim; record the outcome.

    Whoever runs this job, however often and however concurrently, the provider
    is called at most once per claim, and a message recorded as SENT, or claimed
    by a worker whose lease has not run out, is left alone.
    """
    async with sessions.begin() as session:
        locked = await lock_message(session, notification_id)
        if locked is None:
            return NotificationStatus.SKIPPED
        if not locked.claimable:
            return locked.notification.status
        notification = locked.notification
        facts = await _facts(session, notification)
        assert facts is not None  # notifications cascade with their appointment or entry
        if isinstance(facts, OfferFacts):
            reason = facts.stale(clock.now())
        else:
            reason = _stale(
                notification, facts.appointment.status, facts.appointment.starts_at, settings
            )
        address = facts.address(notification.channel)
        if reason is None and address is None:
            reason = "no consent or no verified address for this channel"
        if reason is not None:
            skip(locked, reason)
            return _counted(notification.channel, NotificationStatus.SKIPPED)
        attempt = take_claim(locked, claim_lease(settings))
        kind, channel = notification.kind, notification.channel
    assert address is not None
    subject, body = render(kind, facts)
    try:
        # The deadline covers the whole send, so the lease always outlasts it.
        async with asyncio.timeout(settings.notify_provider_timeout_seconds):
            delivery = await channels[channel].send(to=address, subject=subject, body=body)
    except (RetryableSendError, TimeoutError) as error:
        failure = error if isinstance(error, RetryableSendError) else _timed_out(settings)
        if attempt >= settings.notify_max_attempts:
            await _settle(sessions, notification_id, attempt, NotificationStatus.DEAD, str(failure))
            return _counted(channel, NotificationStatus.DEAD)
        wait = max(
            backoff_seconds(attempt, settings.notify_retry_base_seconds),
            float(failure.retry_after or 0),
        )
        await _settle(
            sessions,
            notification_id,
            attempt,
            NotificationStatus.PENDING,
            str(failure),
            retry_in=wait,
        )
        NOTIFICATIONS.labels(channel=channel.value, status="RETRY").inc()
        raise RetryLater(wait) from error
    except PermanentSendError as error:
        await _settle(sessions, notification_id, attempt, NotificationStatus.FAILED, str(error))
        return _counted(channel, NotificationStatus.FAILED)
    async with sessions.begin() as session:
        ours = await settle(
            session,
            notification_id,
            attempt,
            status=NotificationStatus.SENT,
            provider_message_id=delivery.provider_message_id,
        )
    _log_settled(ours, notification_id, attempt)
    logger.info(
        "sent %s %s %s as %s",
        kind.value,
        channel.value,
        notification_id,
        delivery.provider_message_id,
    )
    return _counted(channel, NotificationStatus.SENT)


async def _facts(
    session: AsyncSession, notification: Notification
) -> AppointmentFacts | OfferFacts | None:
    if notification.waitlist_entry_id is not None:
        return await offer_facts(session, notification.waitlist_entry_id)
    assert notification.appointment_id is not None  # one subject (a CHECK)
    return await appointment_facts(session, notification.appointment_id)


def _counted(channel: NotificationChannel, status: NotificationStatus) -> NotificationStatus:
    """``medappt_notifications_total``: one per attempt's outcome (RETRY for a retry)."""
    NOTIFICATIONS.labels(channel=channel.value, status=status.value).inc()
    return status


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


def _timed_out(settings: Settings) -> RetryableSendError:
    # The provider may have accepted it: the one way a message can go out twice.
    return RetryableSendError(f"no answer within {settings.notify_provider_timeout_seconds:g}s")


async def _settle(
    sessions: async_sessionmaker[AsyncSession],
    notification_id: uuid.UUID,
    attempt: int,
    status: NotificationStatus,
    error: str,
    *,
    retry_in: float | None = None,
) -> None:
    async with sessions.begin() as session:
        ours = await settle(
            session, notification_id, attempt, status=status, error=error[:2000], retry_in=retry_in
        )
    _log_settled(ours, notification_id, attempt)


def _log_settled(ours: bool, notification_id: uuid.UUID, attempt: int) -> None:
    if not ours:
        # Only a worker stalled past its lease gets here; another has taken over.
        logger.warning("claim %s of %s had expired: outcome not recorded", attempt, notification_id)
