"""Entry point for ``uvicorn --factory medappt.asgi:app_from_env`` (used by ``medappt serve``)."""

import gc
import os

from starlette.types import ASGIApp

from medappt.app import create_app
from services.settings import load_settings
from services.tracing import tracer_provider_from_environment


def app_from_env() -> ASGIApp:
    provider = tracer_provider_from_environment(os.environ, "medappt-api")
    app = create_app(load_settings(os.environ), provider)
    tune_garbage_collector()
    return app


def tune_garbage_collector() -> None:
    """A request makes thousands of short-lived objects, and the default thresholds
    made the collector a quarter of the CPU time of a records query (py-spy,
    docs/performance.md). Objects alive at start-up (modules, the schema) are
    frozen out of every collection, and young ones are collected less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
