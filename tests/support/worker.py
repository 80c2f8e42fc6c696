"""Running the notification worker in tests: the relay, then a burst worker."""

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from arq.connections import ArqRedis, RedisSettings, create_pool
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.settings import Settings
from tests.support.providers import (
    SENDGRID_FROM,
    SENDGRID_KEY,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeSendGrid,
    FakeTwilio,
)
from workers.outbox import publish_due_messages
from workers.serialization import deserialize_job, serialize_job
from workers.settings import build_worker
from workers.stopping import close_after_jobs


def with_providers(settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid) -> Settings:
    return dataclasses.replace(
        settings,
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_from=TWILIO_FROM,
        twilio_base_url=twilio.base_url,
        sendgrid_api_key=SENDGRID_KEY,
        sendgrid_from=SENDGRID_FROM,
        sendgrid_base_url=sendgrid.base_url,
        # Retries without waiting: the schedule itself is tested on its own.
        notify_retry_base_seconds=0.0,
        reminder_offsets=(timedelta(hours=24), timedelta(hours=2)),
    )


async def queue(settings: Settings) -> ArqRedis:
    return await create_pool(
        RedisSettings.from_dsn(settings.require_redis_url()),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )


async def run_worker(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    max_jobs: int = -1,
    tracer_provider: TracerProvider | None = None,
) -> int:
    """Publish the outbox, then run jobs until none is left (or ``max_jobs`` ran).
    Returns how many outbox rows were published."""
    pool = await queue(settings)
    try:
        published = await publish_due_messages(sessions, pool)
    finally:
        await pool.aclose()
    worker = build_worker(
        settings,
        tracer_provider,
        burst=True,
        max_burst_jobs=max_jobs,
        cron_jobs=[],
        poll_delay=0.01,
        handle_signals=False,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return published


@contextlib.asynccontextmanager
async def running_workers(settings: Settings, count: int) -> AsyncIterator[None]:
    """``count`` full workers, cron jobs included, as ``medappt worker`` runs them."""
    workers = [build_worker(settings, handle_signals=False, poll_delay=0.02) for _ in range(count)]
    runs = [asyncio.create_task(worker.async_run()) for worker in workers]
    try:
        yield
    finally:
        await close_after_jobs(workers)
        for run in runs:
            with contextlib.suppress(asyncio.CancelledError):
                await run


async def until(condition: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail if it does not within ``within`` seconds."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - the database cannot signal us
            await asyncio.sleep(0.05)
