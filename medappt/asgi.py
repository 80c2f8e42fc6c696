"""Entry point for ``uvicorn --factory medappt.asgi:app_from_env`` (used by ``medappt serve``)."""

import gc
import os

from starlette.types import ASGIApp

from medappt.app import create_app
from services.settings import load_settings
from services.tracing import tracer_provider_from_environment


def app_from_env() -> ASGIApp:
    provider = tracer_provider_from_environment(os.environ, "medappt-api")
    return create_app(load_settings(os.environ), provider, started=tune_garbage_collector)


def tune_garbage_collector() -> None:
    """A request makes thousands of short-lived objects, and the default thresholds
    made the collector a quarter of the CPU time of a records query (py-spy,
    docs/performance.md). Objects alive once the app has started (modules, the schema,
    the clients and pools of its services: about 205,000, 39,000 more than before it
    starts) are frozen out of every collection, and young ones are collected less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
