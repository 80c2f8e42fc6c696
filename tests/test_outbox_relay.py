"""The outbox relay turns committed rows into arq jobs, once."""

import json

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OutboxMessage
from workers.outbox import publish_due_messages
from workers.serialization import deserialize_job, serialize_job


async def test_due_rows_become_jobs_with_ids_from_the_row_and_are_published_once(
    sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    async with sessions.begin() as session:
        session.add_all(
            [
                OutboxMessage(topic="send_confirmation", payload={"appointment_id": "a1"}),
                OutboxMessage(topic="send_confirmation", payload={"appointment_id": "a2"}),
            ]
        )
    queue = ArqRedis(
        connection_pool=redis.connection_pool,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )

    first = await publish_due_messages(sessions, queue)
    second = await publish_due_messages(sessions, queue)

    assert (first, second) == (2, 0)
    queued = await redis.zrange("arq:queue", 0, -1)
    assert sorted(queued) == [b"outbox:1", b"outbox:2"]
    job = json.loads(await redis.get("arq:job:outbox:1") or b"{}")
    assert (job["f"], job["a"]) == ("send_confirmation", [{"appointment_id": "a1"}])
    async with sessions() as session:
        published = (await session.scalars(select(OutboxMessage.published_at))).all()
    assert len(published) == 2
    assert all(at is not None for at in published)


async def test_a_row_enqueued_again_after_a_crash_is_not_a_second_job(
    sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    async with sessions.begin() as session:
        session.add(OutboxMessage(topic="send_confirmation", payload={"appointment_id": "a1"}))
    queue = ArqRedis(
        connection_pool=redis.connection_pool,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
    # As if a relay had enqueued the row and died before marking it published.
    await queue.enqueue_job("send_confirmation", {"appointment_id": "a1"}, _job_id="outbox:1")

    assert await publish_due_messages(sessions, queue) == 1

    assert await redis.zrange("arq:queue", 0, -1) == [b"outbox:1"]
