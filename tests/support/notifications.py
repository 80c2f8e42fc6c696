"""Patients who take messages, and the messages recorded for them."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import NotificationKind, Role
from db.models import Notification, Patient, User
from domain.notifications import DueMessage
from services.settings import Settings
from tests.support.scheduling import Signed, signed_in

PHONE = "+14155550123"


async def patient_with_phone(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    sms: bool = True,
    email: bool = True,
) -> Signed:
    """A patient whose phone and e-mail are verified (appointment messages go to no other)."""
    pat = await signed_in(sessions, settings, Role.PATIENT)
    async with sessions.begin() as session:
        patient = await session.get_one(Patient, pat.profile_id)
        patient.phone, patient.sms_opt_in, patient.email_opt_in = PHONE, sms, email
        patient.phone_verified_at = datetime.now(UTC)
        user = await session.get_one(User, pat.user_id)
        user.email_verified_at = datetime.now(UTC)
    return pat


async def notification_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str, str, int]]:
    """(kind, channel, status, attempts) of every message, in time order."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(Notification).order_by(
                    Notification.scheduled_for, Notification.kind, Notification.channel
                )
            )
        ).all()
    return [(row.kind.value, row.channel.value, row.status.value, row.attempts) for row in rows]


async def messages_of_kind(
    sessions: async_sessionmaker[AsyncSession], kind: NotificationKind
) -> list[DueMessage]:
    """Every message of ``kind``, as the scan would hand them to the send job."""
    async with sessions() as session:
        rows = await session.execute(
            select(Notification.id, Notification.attempts)
            .where(Notification.kind == kind)
            .order_by(Notification.scheduled_for, Notification.channel)
        )
        return [DueMessage(*row) for row in rows.all()]
