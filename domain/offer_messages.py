"""WAITLIST_OFFER messages: rows first, sending later, as for appointment messages (the
same claims, retries, consent and verified addresses), about an entry's offer."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import NotificationChannel, NotificationKind, WaitlistStatus
from db.models import Notification, WaitlistEntry
from domain.message_claims import ready_to_send
from domain.notifications import DueMessage, consented_address, message_subject


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What an offer message may say: when, where, with whom, until when. Nothing medical."""

    entry: WaitlistEntry
    doctor_name: str
    clinic_name: str
    clinic_timezone: str
    phone: str | None
    email: str
    sms_opt_in: bool
    email_opt_in: bool
    phone_verified: bool
    email_verified: bool

    def address(self, channel: NotificationChannel) -> str | None:
        return consented_address(channel, self)

    def stale(self, now: datetime) -> str | None:
        """Why the message would no longer tell the truth, if it would not."""
        if self.entry.status is not WaitlistStatus.OFFERED:
            return f"waitlist entry is {self.entry.status.value}"
        expires_at = self.entry.offer_expires_at
        if expires_at is None or expires_at <= now:
            return "offer expired"
        return None


async def offer_facts(session: AsyncSession, entry_id: uuid.UUID) -> OfferFacts | None:
    row = await message_subject(session, WaitlistEntry, entry_id)
    if row is None:
        return None
    entry, doctor_name, clinic_name, timezone, patient, email, email_verified_at = row
    return OfferFacts(
        entry=entry,
        doctor_name=doctor_name,
        clinic_name=clinic_name,
        clinic_timezone=timezone,
        phone=patient.phone,
        email=email,
        sms_opt_in=patient.sms_opt_in,
        email_opt_in=patient.email_opt_in,
        phone_verified=patient.phone_verified_at is not None,
        email_verified=email_verified_at is not None,
    )


async def plan_offer_messages(
    session: AsyncSession, entry_id: uuid.UUID, now: datetime
) -> Sequence[DueMessage]:
    """Records the offer's message on each consented channel (once, however often this
    runs: the offer's time is part of the row's unique key) and returns those ready to
    send. Does not commit."""
    facts = await offer_facts(session, entry_id)
    if facts is None or facts.entry.offered_at is None:
        return []
    rows = [
        {
            "waitlist_entry_id": entry_id,
            "kind": NotificationKind.WAITLIST_OFFER,
            "channel": channel,
            "scheduled_for": facts.entry.offered_at,
        }
        for channel in NotificationChannel
        if facts.address(channel) is not None
    ]
    if rows:
        await session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
    ready = await session.execute(
        select(Notification.id, Notification.attempts).where(
            Notification.waitlist_entry_id == entry_id, ready_to_send(now)
        )
    )
    return [DueMessage(*row) for row in ready.all()]
