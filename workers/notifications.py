"""arq jobs: plan messages for appointment events, send them, and send due reminders."""

import uuid
from collections.abc import Iterable
from typing import Any

from arq import Retry
from arq.connections import ArqRedis

from db.enums import NotificationKind
from domain.clock import clock
from domain.notifications import DueMessage, due, plan_for_event
from services.tracing import current_trace_parent
from workers.delivery import RetryLater, deliver

SEND_JOB = "send_notification"


def send_job_id(message: DueMessage) -> str:
    # One job per attempt of a message: enqueueing it again while it exists, or
    # while arq keeps its result, is a no-op. A claim left by a dead worker has
    # one more attempt counted, so the rescan's job for it gets a new name.
    return f"notification:{message.id}:{message.attempts}"


async def enqueue_sends(queue: ArqRedis, messages: Iterable[DueMessage]) -> None:
    for message in messages:
        await queue.enqueue_job(
            SEND_JOB,
            str(message.id),
            _job_id=send_job_id(message),
            traceparent=current_trace_parent(),  # workers/job_spans.py
        )


async def _plan(ctx: dict[str, Any], payload: dict[str, Any], kind: NotificationKind) -> None:
    now = clock.now()
    appointment_id = uuid.UUID(payload["appointment_id"])
    async with ctx["sessions"].begin() as session:
        await plan_for_event(session, appointment_id, kind, ctx["settings"].reminder_offsets, now)
        ready = await due(session, now, appointment_id)
    await enqueue_sends(ctx["redis"], ready)


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
    """Reminders live in the database until due, so nothing waits in Redis for days;
    this also hands over messages whose claim a dead worker left behind."""
    async with ctx["sessions"]() as session:
        ready = await due(session, clock.now())
    await enqueue_sends(ctx["redis"], ready)
    return len(ready)
