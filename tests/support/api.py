"""The API served by a real uvicorn on a free port, inside the test event loop."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import uvicorn
from opentelemetry.sdk.trace import TracerProvider

from devtools.embedded.process import free_port
from medappt.app import create_app
from services.settings import Settings


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The test runner owns signals; the server stops through should_exit.
        yield


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, tracer_provider),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        proxy_headers=False,  # the app's MEDAPPT_TRUSTED_PROXIES decide, as in serve
    )
    server = _InLoopServer(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()  # raises why it could not start
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    return without_cost(body)


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """The body without ``extensions.cost``, after checking it is there: every response
    carries it (tests/test_door_cost.py checks the numbers)."""
    extensions = body.pop("extensions")
    cost = extensions.pop("cost")
    assert set(cost) == {"requested", "limit"}, cost
    assert all(isinstance(value, int) for value in cost.values()), cost
    if extensions:
        body["extensions"] = extensions
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]
