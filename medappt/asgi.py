"""Entry point for ``uvicorn --factory medappt.asgi:app_from_env`` (used by ``medappt serve``)."""

import os

from starlette.applications import Starlette

from medappt.app import create_app
from medappt.settings import load_settings


def app_from_env() -> Starlette:
    return create_app(load_settings(os.environ))
