"""``medappt worker``: wait for the servers, run the arq worker, and run it again after
Redis comes back from an outage (arq's polling loop ends at Redis's first error;
PostgreSQL errors only fail jobs, which arq retries)."""

import asyncio
import logging
import os

from arq.worker import Worker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import start_http_server

from services.outages import is_outage
from services.server_health import wait_for_servers
from services.settings import Settings
from services.tracing import tracer_provider_from_environment
from workers.settings import build_worker

logger = logging.getLogger("workers.supervisor")


async def supervise(settings: Settings, *, metrics_port: int | None = None) -> None:
    database_url, redis_url = settings.require_database_url(), settings.require_redis_url()
    await wait_for_servers(database_url, redis_url, settings.startup_wait_s)
    if metrics_port is not None:
        start_http_server(metrics_port)  # a thread of its own; ends with the process
    provider = tracer_provider_from_environment(os.environ, "medappt-worker")
    try:
        await _run_until_stopped(settings, provider)
    finally:
        if provider is not None:
            provider.shutdown()


async def _run_until_stopped(settings: Settings, provider: TracerProvider | None) -> None:
    database_url, redis_url = settings.require_database_url(), settings.require_redis_url()
    while True:
        worker = build_worker(settings, provider)
        try:
            await worker.async_run()
            return
        except asyncio.CancelledError:
            # arq's SIGINT/SIGTERM handler cancels its main task: a clean stop.
            return
        except Exception as error:
            if not is_outage(error):
                raise
            logger.error("worker stopped by an outage (%s); waiting", type(error).__name__)
        finally:
            await _close(worker)
        # After an outage, as long as it takes: the servers are expected back.
        await wait_for_servers(database_url, redis_url, None)
        logger.warning("servers answer again; worker restarting")


async def _close(worker: Worker) -> None:
    """arq's close() begins with a Redis command; with Redis away, do the rest ourselves:
    the engine and the HTTP client (on_shutdown), then the Redis connections."""
    try:
        await worker.close()
    except Exception as error:
        if not is_outage(error):
            raise
        if worker.on_shutdown is not None:
            await worker.on_shutdown(worker.ctx)
        await worker.pool.connection_pool.disconnect()
