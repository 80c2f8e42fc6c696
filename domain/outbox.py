"""Events written in the same transaction as the change they announce."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage
from services.tracing import current_trace_parent


class Topic(StrEnum):
    """Each topic is also the name of the worker job that handles it."""

    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    # A hold's end: cached days, and those who watch them, learn that its slot is free.
    SLOT_HOLD_EXPIRED = "slot_hold_expired"
    # A waitlist offer was made (message the patient), and its expiry (pass it on).
    WAITLIST_OFFERED = "waitlist_offered"
    WAITLIST_OFFER_EXPIRED = "waitlist_offer_expired"
    # Account messages: the worker makes the one-time secret, so it is never stored
    # anywhere but as a hash.
    EMAIL_VERIFICATION_REQUESTED = "email_verification_requested"
    PHONE_VERIFICATION_REQUESTED = "phone_verification_requested"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"


def announce(
    session: AsyncSession,
    topic: Topic,
    payload: dict[str, Any],
    *,
    available_at: datetime | None = None,
) -> None:
    """Published by the relay only if, and once, the surrounding transaction commits;
    not before ``available_at`` when given."""
    message = OutboxMessage(topic=topic.value, payload=payload, trace_parent=current_trace_parent())
    if available_at is not None:
        message.available_at = available_at
    session.add(message)
