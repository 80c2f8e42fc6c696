"""Events written in the same transaction as the change they announce."""

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage


class Topic(StrEnum):
    """Each topic is also the name of the worker job that handles it."""

    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"


def announce(session: AsyncSession, topic: Topic, payload: dict[str, Any]) -> None:
    """Published by the relay only if, and once, the surrounding transaction commits."""
    session.add(OutboxMessage(topic=topic.value, payload=payload))
