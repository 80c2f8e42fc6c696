"""Events written in the same transaction as the change they announce."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CTE, String, bindparam, cast, func, insert, literal, select
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


def announcing(inserted: CTE, topic: Topic, key: str) -> CTE:
    """The outbox INSERT for a data-modifying CTE that returns ``id``: one message per
    row it inserted, payload ``{key: id}``, so a change and its event go in one
    statement (one round trip, no unit-of-work flush). Binds ``trace_parent``: pass
    :func:`current_trace_parent`."""
    return (
        insert(OutboxMessage)
        .from_select(
            ["topic", "payload", "trace_parent"],
            select(
                literal(topic.value, String),
                func.jsonb_build_object(key, cast(inserted.c.id, String)),
                bindparam("trace_parent", type_=String),
            ),
        )
        .cte(f"{inserted.name}_announced")
    )
