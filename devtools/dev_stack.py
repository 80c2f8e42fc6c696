"""``medappt dev``: the whole stack on one machine with no configuration."""

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from db.migrate import upgrade
from devtools.demo import demo_logins, load_demo_data
from devtools.embedded import EmbeddedStack
from medappt.app import create_app
from services.container import open_services
from services.logs import configure_logging, log_config
from services.settings import Settings
from services.storage import ensure_bucket
from workers.settings import build_worker
from workers.stopping import close_after_jobs

logger = logging.getLogger("devtools.dev_stack")


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after serving; we stop the rest ourselves first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _stop(self) -> None:
        self.should_exit = True


def run_dev(settings: Settings, *, host: str, port: int, data_dir: Path) -> None:
    configure_logging(settings.log_format)
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded = EmbeddedStack(
        data_dir,
        postgres=settings.database_url is None,
        redis=settings.redis_url is None,
        s3=settings.s3_endpoint_url is None,
        durable=True,
    )
    with embedded:
        settings = dataclasses.replace(settings, data_dir=data_dir).with_servers(
            database_url=embedded.database_url,
            redis_url=embedded.redis_url,
            s3_endpoint_url=embedded.s3_endpoint_url,
        )
        upgrade(settings.require_database_url())
        asyncio.run(_serve(settings, host, port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    async with open_services(settings) as services:
        await ensure_bucket(services.s3, settings.s3_bucket)
        summary = await load_demo_data(services.sessions, services.s3, settings.s3_bucket)
    logger.info("demo data: %s", summary)

    worker = build_worker(settings, handle_signals=False)
    server = _Server(
        uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            log_config=log_config(settings.log_format),
            access_log=False,  # medappt.access writes one line per request
            proxy_headers=False,
        )
    )
    worker_task = asyncio.create_task(worker.async_run())
    print(_banner(settings, host, port), flush=True)
    try:
        await server.serve()
    finally:
        await close_after_jobs([worker])
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task


def _banner(settings: Settings, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    lines = [
        "",
        "medappt dev is running",
        f"  GraphiQL   {base}/graphql",
        f"  health     {base}/health    ready {base}/ready",
        f"  database   {settings.database_url}",
        f"  redis      {settings.redis_url}",
        f"  s3         {settings.s3_endpoint_url or 'AWS'} bucket {settings.s3_bucket}",
        "  demo logins:",
        *(f"    {role:<8} {email:<32} {password}" for role, email, password in demo_logins()),
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)
