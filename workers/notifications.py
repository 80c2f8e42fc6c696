"""arq jobs: plan messages for appointment events, send them, and send due reminders."""

import uuid
from datetime import UTC, datetime
from typing import Any

from arq import Retry
from arq.connections import ArqRedis

from db.enums import NotificationKind
from domain.notifications import due, plan_for_event
from workers.delivery import RetryLater, deliver

SEND_JOB = "send_notification"


def send_job_id(notification_id: uuid.UUID) -> str:
    # One job per message: enqueueing it again while it exists is a no-op.
    return f"notification:{notification_id}"


async def enqueue_sends(queue: ArqRedis, ids: list[uuid.UUID]) -> None:
    for notification_id in ids:
        await queue.enqueue_job(
            SEND_JOB, str(notification_id), _job_id=send_job_id(notification_id)
        )


async def _plan(ctx: dict[str, Any], payload: dict[str, Any], kind: NotificationKind) -> None:
    now = datetime.now(UTC)
    appointment_id = uuid.UUID(payload["appointment_id"])
    async with ctx["sessions"].begin() as session:
        await plan_for_event(session, appointment_id, kind, ctx["settings"].reminder_offsets, now)
        ids = await due(session, now, appointment_id)
    await enqueue_sends(ctx["redis"], ids)


async def appointment_booked(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    await _plan(ctx, payload, NotificationKind.CONFIRMATION)


async def appointment_cancelled(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    await _plan(ctx, payload, NotificationKind.CANCELLATION)


async def appointment_rescheduled(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    await _plan(ctx, payload, NotificationKind.RESCHEDULE)


async def send_notification(ctx: dict[str, Any], notification_id: str) -> str:
    try:
        status = await deliver(
            ctx["sessions"], ctx["channels"], ctx["settings"], uuid.UUID(notification_id)
        )
    except RetryLater as later:
        raise Retry(defer=later.seconds) from later
    return status.value


async def send_due_notifications(ctx: dict[str, Any]) -> int:
    """Reminders live in the database until due, so nothing waits in Redis for days."""
    async with ctx["sessions"]() as session:
        ids = await due(session, datetime.now(UTC))
    await enqueue_sends(ctx["redis"], ids)
    return len(ids)
