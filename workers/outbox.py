"""The outbox relay: rows written with a change become jobs once that change has committed."""

from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OutboxMessage

BATCH_SIZE = 100


def job_id(message: OutboxMessage) -> str:
    return f"outbox:{message.id}"


async def publish_due_messages(
    sessions: async_sessionmaker[AsyncSession], queue: ArqRedis, *, batch_size: int = BATCH_SIZE
) -> int:
    """Enqueue due rows as jobs named by their topic and mark them published.

    SKIP LOCKED lets several relays share the table. A crash between enqueue and
    commit republishes the row, and the job id derived from it makes arq drop
    the duplicate.
    """
    async with sessions.begin() as session:
        messages = (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.published_at.is_(None),
                    OutboxMessage.available_at <= datetime.now(UTC),
                )
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        now = datetime.now(UTC)
        for message in messages:
            await queue.enqueue_job(
                message.topic,
                message.payload,
                _job_id=job_id(message),
                traceparent=message.trace_parent,  # workers/job_spans.py
            )
            message.published_at = now
    return len(messages)


async def relay_outbox(ctx: dict[str, Any]) -> int:
    return await publish_due_messages(ctx["sessions"], ctx["redis"])
