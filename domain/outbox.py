"""Events written in the same transaction as the change they announce."""

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
    # Account messages: the worker makes the one-time secret, so it is never stored
    # anywhere but as a hash.
    EMAIL_VERIFICATION_REQUESTED = "email_verification_requested"
    PHONE_VERIFICATION_REQUESTED = "phone_verification_requested"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"


def announce(session: AsyncSession, topic: Topic, payload: dict[str, Any]) -> None:
    """Published by the relay only if, and once, the surrounding transaction commits."""
    session.add(
        OutboxMessage(topic=topic.value, payload=payload, trace_parent=current_trace_parent())
    )
