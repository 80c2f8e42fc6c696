"""A message goes out once: a claim with a lease before every send, whoever runs the job."""

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.enums import NotificationChannel, NotificationKind, NotificationStatus
from db.models import Notification
from services.settings import Settings
from tests.support.notifications import messages_of_kind, notification_rows, patient_with_phone
from tests.support.providers import FakeSendGrid, FakeTwilio
from tests.support.scheduling import book_via_api, local, make_monday_world
from tests.support.worker import queue, run_worker, running_workers, until
from workers.channels.factory import channels_from_settings
from workers.delivery import deliver
from workers.notifications import send_due_notifications

NY = "America/New_York"


async def _one_planned_sms(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings,
) -> uuid.UUID:  # fmt: skip
    """A booking whose SMS confirmation is planned and queued, not yet sent."""
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    await run_worker(worker_settings, sessions, max_jobs=1)  # the planner job only
    [confirmation] = await messages_of_kind(sessions, NotificationKind.CONFIRMATION)
    return confirmation.id


async def test_twenty_concurrent_deliveries_of_one_message_call_the_provider_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio,
) -> None:  # fmt: skip
    notification_id = await _one_planned_sms(client, sessions, settings, worker_settings)
    twilio.answer_delay = 0.2
    # Twenty connections of their own, so the twenty jobs truly race for the row.
    engine = create_engine(worker_settings.require_database_url(), pool_size=20)
    try:
        racing = session_factory(engine)
        async with httpx.AsyncClient() as http:
            sms, email = channels_from_settings(worker_settings, http)
            channels = {NotificationChannel.SMS: sms, NotificationChannel.EMAIL: email}
            outcomes = await asyncio.gather(
                *(deliver(racing, channels, worker_settings, notification_id) for _ in range(20))
            )
    finally:
        await engine.dispose()

    assert sorted(outcomes) == sorted([NotificationStatus.SENT] + [NotificationStatus.SENDING] * 19)
    assert twilio.attempts == 1
    assert len(twilio.messages) == 1
    async with sessions() as session:
        row = await session.get_one(Notification, notification_id)
    assert (row.status, row.attempts, row.claim_expires_at, row.provider_message_id) == (
        NotificationStatus.SENT, 1, None, twilio.messages[0].sid,
    )  # fmt: skip


async def test_a_provider_slower_than_the_rescan_gets_each_message_once_from_two_workers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    for n in range(3):
        pat = await patient_with_phone(sessions, settings)
        await book_via_api(client, clinic, doctor, local(monday, 9 + n, 0, NY), pat)
    # Every answer takes 1.5 s while both workers rescan every second.
    twilio.answer_delay = sendgrid.answer_delay = 1.5
    fast_rescan = dataclasses.replace(worker_settings, notify_rescan_seconds=1)

    async def all_confirmations_settled() -> bool:
        rows = await notification_rows(sessions)
        confirmations = [row for row in rows if row[0] == "CONFIRMATION"]
        return len(confirmations) == 6 and all(row[2] == "SENT" for row in confirmations)

    async with running_workers(fast_rescan, 2):
        await until(all_confirmations_settled)

    assert (twilio.attempts, sendgrid.attempts) == (3, 3)
    assert len({m.body for m in twilio.messages}) == 3
    assert len({m.subject for m in sendgrid.messages}) == 3
    assert sorted(row for row in await notification_rows(sessions) if row[0] == "CONFIRMATION") == [
        ("CONFIRMATION", "EMAIL", "SENT", 1)] * 3 + [("CONFIRMATION", "SMS", "SENT", 1)] * 3  # fmt: skip


async def _claim_as_a_worker_did(
    sessions: async_sessionmaker[AsyncSession], notification_id: uuid.UUID, lease_left: str
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(
                status=NotificationStatus.SENDING,
                attempts=1,
                claim_expires_at=text(f"now() + interval '{lease_left}'"),
            )
        )


@pytest.mark.parametrize("first_job_lost", [True, False], ids=["job-lost", "job-still-queued"])
async def test_a_claim_whose_worker_died_is_sent_once_by_the_next_worker_after_its_lease(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, redis: Redis, first_job_lost: bool,
) -> None:  # fmt: skip
    notification_id = await _one_planned_sms(client, sessions, settings, worker_settings)
    if first_job_lost:
        await redis.flushdb()  # the dead worker had taken its job with it
    # A worker claimed it, then died mid-send: while its lease lasts, nobody sends.
    await _claim_as_a_worker_did(sessions, notification_id, "1 minute")
    pool = await queue(worker_settings)
    try:
        rescan = {"sessions": sessions, "redis": pool}
        assert await send_due_notifications(rescan) == 0
        await run_worker(worker_settings, sessions)
        assert twilio.attempts == 0

        # The lease runs out: the rescan hands the message on, under a new job name.
        await _claim_as_a_worker_did(sessions, notification_id, "-1 second")
        assert await send_due_notifications(rescan) == 1
        await run_worker(worker_settings, sessions)
        assert await send_due_notifications(rescan) == 0
    finally:
        await pool.aclose()

    assert twilio.attempts == 1
    assert len(twilio.messages) == 1
    async with sessions() as session:
        row = await session.get_one(Notification, notification_id)
    assert (row.status, row.attempts, row.claim_expires_at) == (NotificationStatus.SENT, 2, None)
    assert row.sent_at is not None
    assert abs(row.sent_at - datetime.now(UTC)) < timedelta(minutes=5)
