"""arq WorkerSettings for ``medappt worker`` and the worker inside ``medappt dev``."""

from collections.abc import Sequence
from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function, Worker, create_worker
from opentelemetry.sdk.trace import TracerProvider

from db.engine import create_engine, session_factory
from db.enums import NotificationChannel
from services.settings import Settings
from services.tracing import trace_engine, trace_httpx, tracer_of
from workers.account_messages import (
    email_verification_requested,
    password_reset_requested,
    phone_verification_requested,
)
from workers.channels.budgeted import BudgetedChannel
from workers.channels.factory import channels_from_settings, http_client
from workers.holds import slot_hold_expired
from workers.job_spans import cron_with_spans, with_spans
from workers.notifications import (
    appointment_booked,
    appointment_cancelled,
    appointment_rescheduled,
    send_due_notifications,
    send_notification,
)
from workers.outbox import relay_outbox
from workers.queue_metrics import count_queued_jobs
from workers.serialization import deserialize_job, serialize_job
from workers.waitlist import waitlist_offer_expired, waitlist_offered


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    ctx["engine"] = create_engine(
        settings.require_database_url(),
        pool_size=5,
        statement_timeout_ms=settings.statement_timeout_ms,
        lock_timeout_ms=settings.lock_timeout_ms,
        idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
    )
    ctx["sessions"] = session_factory(ctx["engine"])
    # One pooled HTTP client for every provider call of this worker.
    ctx["http"] = http_client(settings.notify_provider_timeout_seconds)
    if (provider := ctx.get("tracer_provider")) is not None:
        trace_engine(ctx["engine"], provider)
        trace_httpx(ctx["http"], provider)
    sms, email = channels_from_settings(settings, ctx["http"])
    # Verification and reset messages: their budgets were spent when the API accepted them.
    ctx["account_channels"] = {NotificationChannel.SMS: sms, NotificationChannel.EMAIL: email}
    # Appointment texts per phone number per day (MEDAPPT_RATE_LIMITS `sms`).
    sms = BudgetedChannel(sms, ctx["redis"], settings.rate_limits, "sms")
    ctx["channels"] = {NotificationChannel.SMS: sms, NotificationChannel.EMAIL: email}


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["http"].aclose()
    await ctx["engine"].dispose()


class WorkerSettings:
    functions: Sequence[WorkerCoroutine | Function] = (
        appointment_booked,
        appointment_cancelled,
        appointment_rescheduled,
        send_notification,
        email_verification_requested,
        phone_verification_requested,
        password_reset_requested,
        waitlist_offered,
        waitlist_offer_expired,
        slot_hold_expired,
    )
    cron_jobs: Sequence[CronJob] | None = None  # from the settings: see cron_jobs()
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown
    job_serializer = serialize_job
    job_deserializer = deserialize_job
    # Retries are counted in the notifications table; arq only needs room for them.
    max_tries = 20
    # Told to stop (SIGTERM, as a deploy does), a worker takes no new job and gives those
    # under way this long to finish: a send cancelled midway would be sent again once its
    # claim lapsed. Shorter than Kubernetes' default grace period of 30 s.
    job_completion_wait = 20


def cron_jobs(settings: Settings) -> list[CronJob]:
    return [
        # Every second: a booking's confirmation should not wait for the relay.
        cron(relay_outbox, second=None, unique=True, run_at_startup=True),
        cron(count_queued_jobs, second=None, unique=True, run_at_startup=True),
        cron(
            send_due_notifications,
            second=set(range(0, 60, settings.notify_rescan_seconds)),
            unique=True,
            run_at_startup=True,
        ),
    ]


def build_worker(
    settings: Settings, tracer_provider: TracerProvider | None = None, **overrides: Any
) -> Worker:
    """``tracer_provider``: jobs, statements and provider calls are traced
    (services/tracing.py, workers/job_spans.py)."""
    settings.require_servers()
    tracer = None if tracer_provider is None else tracer_of(tracer_provider)
    options = {"functions": WorkerSettings.functions, "cron_jobs": cron_jobs(settings), **overrides}
    options["functions"] = with_spans(options["functions"], tracer)
    options["cron_jobs"] = cron_with_spans(options["cron_jobs"], tracer)
    return create_worker(
        WorkerSettings,
        redis_settings=RedisSettings.from_dsn(settings.require_redis_url()),
        ctx={"settings": settings, "tracer_provider": tracer_provider},
        **options,
    )
