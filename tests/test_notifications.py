"""Confirmations and reminders: after commit only, retried, never lost, never doubled."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import (
    AppointmentStatus,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    Role,
)
from db.models import Appointment, Notification, OutboxMessage, Patient, User
from domain.booking import BookingRequest, book
from domain.caller import Caller
from services.clinic_directory import ClinicDirectory
from services.settings import Settings
from services.slot_cache import SlotCache
from tests.support.api import graphql
from tests.support.notifications import (
    PHONE,
    messages_of_kind,
    notification_rows,
    patient_with_phone,
)
from tests.support.providers import (
    SENDGRID_FROM,
    SENDGRID_KEY,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeSendGrid,
    FakeTwilio,
)
from tests.support.scheduling import (
    book_via_api,
    local,
    make_monday_world,
)
from tests.support.worker import queue, run_worker
from workers.channels.base import Channel
from workers.channels.sendgrid import SendGridEmail
from workers.channels.twilio import TwilioSms
from workers.delivery import backoff_seconds, deliver
from workers.notifications import enqueue_sends

NY = "America/New_York"


async def test_a_booking_yields_one_confirmation_per_consented_channel(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid, calendar_now: datetime,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    both = await patient_with_phone(sessions, settings)
    email_only = await patient_with_phone(sessions, settings, sms=False)
    starts = local(monday, 9, 30, NY)
    await book_via_api(client, clinic, doctor, starts, both)
    await book_via_api(client, clinic, doctor, local(monday, 10, 0, NY), email_only)

    assert await run_worker(worker_settings, sessions) == 2
    await run_worker(worker_settings, sessions)  # again: nothing new

    assert [(m.to, m.body) for m in twilio.messages] == [
        (
            PHONE,
            f"Your appointment is booked: {starts:%A %d %B %Y} at 09:30 ({starts:%Z}) with Dr. Ada Grey at Riverside.",
        )
    ]
    async with sessions() as session:
        emails = set(
            await session.scalars(
                select(User.email).where(User.id.in_([both.user_id, email_only.user_id]))
            )
        )
    assert len(sendgrid.messages) == 2
    assert {m.to for m in sendgrid.messages} == {(email,) for email in emails}
    assert {m.subject for m in sendgrid.messages} == {
        f"Your appointment is booked - {starts:%d %b %Y} 09:30",
        f"Your appointment is booked - {starts:%d %b %Y} 10:00",
    }
    statuses = await notification_rows(sessions)
    assert sorted(s for s in statuses if s[0] == "CONFIRMATION") == [
        ("CONFIRMATION", "EMAIL", "SENT", 1), ("CONFIRMATION", "EMAIL", "SENT", 1), ("CONFIRMATION", "SMS", "SENT", 1),
    ]  # fmt: skip
    # Two reminders (24 h and 2 h before) per consented channel wait for their time.
    assert (
        sorted(s for s in statuses if s[0] == "REMINDER")
        == [("REMINDER", "EMAIL", "PENDING", 0)] * 4 + [("REMINDER", "SMS", "PENDING", 0)] * 2
    )


async def test_two_failures_then_success_delivers_once_after_three_attempts(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    twilio.fail_next([500, 500])
    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)

    await run_worker(worker_settings, sessions)

    assert len(twilio.messages) == 1
    assert twilio.attempts == 3
    async with sessions() as session:
        sms = await session.scalar(select(Notification).where(Notification.kind == "CONFIRMATION"))
    assert sms is not None
    assert (sms.status, sms.attempts, sms.provider_message_id, sms.last_error) == (
        NotificationStatus.SENT, 3, twilio.messages[0].sid, None,
    )  # fmt: skip


async def test_a_provider_down_past_the_retry_limit_leaves_the_message_dead_and_the_booking(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    twilio.fail_always(503)
    appointment_id = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)

    await run_worker(worker_settings, sessions)

    assert twilio.messages == []
    assert twilio.attempts == 6
    async with sessions() as session:
        sms = await session.scalar(select(Notification).where(Notification.kind == "CONFIRMATION"))
        booking = await session.get_one(Appointment, uuid.UUID(appointment_id))
    assert sms is not None
    assert (sms.status, sms.attempts, sms.sent_at) == (NotificationStatus.DEAD, 6, None)
    assert sms.last_error is not None
    assert sms.last_error.startswith("Twilio responded 503")
    assert booking.status is AppointmentStatus.SCHEDULED


async def test_a_number_the_provider_refuses_fails_at_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    async with sessions.begin() as session:
        (await session.get_one(Patient, pat.profile_id)).phone = "555-0123"
    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)

    await run_worker(worker_settings, sessions)

    assert (await notification_rows(sessions))[0] == ("CONFIRMATION", "SMS", "FAILED", 1)
    assert twilio.attempts == 1


async def test_a_reminder_rereads_the_appointment_when_it_is_sent(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid, calendar_now: datetime,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    appointment_id = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    await run_worker(worker_settings, sessions)
    # Cancelled behind the planner's back: only the send-time check can stop it.
    async with sessions.begin() as session:
        await session.execute(update(Appointment).where(Appointment.id == appointment_id)
                              .values(status=AppointmentStatus.CANCELLED, cancelled_at=datetime.now(UTC)))  # fmt: skip
    pool = await queue(worker_settings)
    await enqueue_sends(
        pool, await messages_of_kind(sessions, NotificationKind.REMINDER)
    )  # as when their time comes
    await pool.aclose()

    await run_worker(worker_settings, sessions)

    assert len(twilio.messages) == 1  # the confirmation only
    assert [s for s in await notification_rows(sessions) if s[0] == "REMINDER"] == [
        ("REMINDER", "SMS", "SKIPPED", 0)
    ] * 2


async def test_cancel_before_the_reminder_is_due_sends_no_reminder(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid, calendar_now: datetime,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    appointment_id = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    await run_worker(worker_settings, sessions)
    await graphql(
        client,
        "mutation C($id: ID!) { cancelAppointment(id: $id) { id } }",
        {"id": appointment_id},
        token=pat.token,
    )
    await run_worker(worker_settings, sessions)
    pool = await queue(worker_settings)
    await enqueue_sends(pool, await messages_of_kind(sessions, NotificationKind.REMINDER))
    await pool.aclose()
    await run_worker(worker_settings, sessions)

    assert [m.body.split(":")[0] for m in twilio.messages] == [
        "Your appointment is booked",
        "Your appointment is cancelled",
    ]
    assert sorted(await notification_rows(sessions)) == sorted([
        ("CONFIRMATION", "SMS", "SENT", 1), ("CANCELLATION", "SMS", "SENT", 1),
        ("REMINDER", "SMS", "SKIPPED", 0), ("REMINDER", "SMS", "SKIPPED", 0),
    ])  # fmt: skip


async def test_a_moved_appointment_is_reminded_of_its_new_time_only(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid, calendar_now: datetime,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings, email=False)
    appointment_id = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    await run_worker(worker_settings, sessions)
    new_start = local(monday, 11, 0, NY)
    moved = await graphql(client, "mutation R($id: ID!, $at: DateTime!) { rescheduleAppointment(id: $id, startsAt: $at) { id } }",
                          {"id": appointment_id, "at": new_start.isoformat()}, token=pat.token)  # fmt: skip
    assert "errors" not in moved
    await run_worker(worker_settings, sessions)
    pool = await queue(worker_settings)
    await enqueue_sends(
        pool, await messages_of_kind(sessions, NotificationKind.REMINDER)
    )  # every reminder, old and new, comes due
    await pool.aclose()
    await run_worker(worker_settings, sessions)

    bodies = [m.body for m in twilio.messages]
    assert [b.split(":")[0] for b in bodies] == [
        "Your appointment is booked", "Your appointment has moved", "Reminder", "Reminder",
    ]  # fmt: skip
    assert all("at 11:00" in body for body in bodies[1:])
    async with sessions() as session:
        reminders = (await session.execute(select(Notification.scheduled_for, Notification.status)
                                           .where(Notification.kind == "REMINDER").order_by(Notification.scheduled_for))).all()  # fmt: skip
    assert reminders == [
        (local(monday, 9, 0, NY) - timedelta(hours=24), NotificationStatus.SKIPPED),
        (new_start - timedelta(hours=24), NotificationStatus.SENT),
        (local(monday, 9, 0, NY) - timedelta(hours=2), NotificationStatus.SKIPPED),
        (new_start - timedelta(hours=2), NotificationStatus.SENT),
    ]


async def test_a_worker_stopped_mid_batch_delivers_everything_once_after_restart(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    for n in range(4):
        pat = await patient_with_phone(sessions, settings)
        await book_via_api(client, clinic, doctor, local(monday, 9 + n // 2, 30 * (n % 2), NY), pat)

    # The worker stops after the four planner jobs: eight sends wait in the queue ...
    await run_worker(worker_settings, sessions, max_jobs=4)
    async with sessions() as session:
        confirmations = list(
            await session.scalars(
                select(Notification.id)
                .where(Notification.kind == "CONFIRMATION")
                .order_by(Notification.id)
            )
        )
    # ... and two of them had gone out before it stopped.
    async with httpx.AsyncClient() as http:
        channels: dict[NotificationChannel, Channel] = {
            NotificationChannel.SMS: TwilioSms(http, account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN,
                                               from_number=TWILIO_FROM, base_url=twilio.base_url),
            NotificationChannel.EMAIL: SendGridEmail(http, api_key=SENDGRID_KEY, from_email=SENDGRID_FROM,
                                                     base_url=sendgrid.base_url),
        }  # fmt: skip
        for notification_id in confirmations[:2]:
            assert (
                await deliver(sessions, channels, worker_settings, notification_id)
                is NotificationStatus.SENT
            )
    sent_before = len(twilio.messages) + len(sendgrid.messages)
    # The same jobs arrive again under other ids, as after a lost acknowledgement.
    pool = await queue(worker_settings)
    for notification_id in confirmations:
        await pool.enqueue_job(
            "send_notification", str(notification_id), _job_id=f"again:{notification_id}"
        )
    await pool.aclose()
    await run_worker(worker_settings, sessions)

    assert sent_before == 2
    assert len(twilio.messages) == len(sendgrid.messages) == 4
    assert len({m.to for m in twilio.messages}) == 1  # one phone number, four distinct messages
    assert len({m.body for m in twilio.messages}) == 4
    assert [s for s in await notification_rows(sessions) if s[0] == "CONFIRMATION"] == [
        ("CONFIRMATION", channel, "SENT", 1) for _ in range(4) for channel in ("EMAIL", "SMS")
    ]


async def test_a_booking_that_rolls_back_sends_nothing(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, redis: Redis,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    pat = await patient_with_phone(sessions, settings)
    async with sessions() as session:
        patient = await session.get_one(Patient, pat.profile_id)
        caller = Caller(user_id=patient.user_id, role=Role.PATIENT, patient_id=patient.id, doctor_id=None,
                        token_id="t", token_expires_at=datetime.now(UTC), family_id=uuid.uuid4())  # fmt: skip

    async def book_then_fail() -> None:
        async with sessions.begin() as session:
            await book(
                session,
                caller,
                BookingRequest(doctor.id, clinic.id, local(monday, 9, 0, NY)),
                days=SlotCache(redis),
                clinics=ClinicDirectory(sessions),
            )
            raise RuntimeError("something failed after the booking, in the same transaction")

    with pytest.raises(RuntimeError, match="after the booking"):
        await book_then_fail()

    assert await run_worker(worker_settings, sessions) == 0
    assert (twilio.messages, sendgrid.messages) == ([], [])
    async with sessions() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


def test_the_retry_schedule_spreads_six_attempts_over_about_half_an_hour() -> None:
    import random

    rng = random.Random(3)
    waits = [backoff_seconds(attempt, 60, rng) for attempt in range(1, 6)]

    for attempt, wait in enumerate(waits, start=1):
        assert 0.8 * 60 * 2 ** (attempt - 1) <= wait <= 1.2 * 60 * 2 ** (attempt - 1)
    assert 24 * 60 <= sum(waits) <= 38 * 60
