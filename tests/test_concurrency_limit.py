"""MEDAPPT_MAX_CONCURRENT_REQUESTS: GraphQL requests past the limit wait their turn, in
order; probes never wait. The middleware alone, around an app that holds requests."""

import asyncio

from starlette.types import Message, Receive, Scope, Send

from medappt.http.concurrency_limit import ConcurrencyLimit
from services.settings import load_settings


class HeldApp:
    """Records which requests have entered, and keeps each until it is let go."""

    def __init__(self) -> None:
        self.entered: list[int] = []
        self.go = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered.append(scope["n"])
        if scope["path"] == "/graphql":
            await self.go.wait()


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


async def _drop(_: Message) -> None:
    return None


def _request(n: int, path: str = "/graphql") -> Scope:
    return {"type": "http", "path": path, "n": n}


async def _settle() -> None:
    # Every ready task runs until it blocks: a request that could enter has entered.
    for _ in range(20):
        await asyncio.sleep(0)


async def test_requests_past_the_limit_wait_their_turn_in_order() -> None:
    app = HeldApp()
    limited = ConcurrencyLimit(app, limit=2)
    requests = [asyncio.create_task(limited(_request(n), _nothing, _drop)) for n in range(5)]
    await _settle()
    assert app.entered == [0, 1]

    # A probe is answered while the GraphQL requests wait.
    await asyncio.wait_for(limited(_request(99, "/health"), _nothing, _drop), timeout=5)
    assert app.entered == [0, 1, 99]

    app.go.set()
    await asyncio.wait_for(asyncio.gather(*requests), timeout=5)
    assert app.entered == [0, 1, 99, 2, 3, 4]


async def test_a_request_given_up_while_waiting_frees_nothing_it_did_not_take() -> None:
    app = HeldApp()
    limited = ConcurrencyLimit(app, limit=1)
    first = asyncio.create_task(limited(_request(0), _nothing, _drop))
    waiting = asyncio.create_task(limited(_request(1), _nothing, _drop))
    last = asyncio.create_task(limited(_request(2), _nothing, _drop))
    await _settle()
    # The deadline (medappt/http/deadline.py) cancels a request that waited too long.
    waiting.cancel()
    await _settle()
    assert waiting.cancelled()
    assert app.entered == [0]

    app.go.set()
    await asyncio.wait_for(asyncio.gather(first, last), timeout=5)
    assert app.entered == [0, 2]


def test_the_limit_defaults_to_the_connection_pool_size() -> None:
    # Each request inside holds a pooled connection: no more are let in than it has.
    assert load_settings({}).max_concurrent_requests == 20
    assert load_settings({}).db_pool_size == 20
    assert load_settings({"MEDAPPT_DB_POOL_SIZE": "8"}).max_concurrent_requests == 8
    chosen = {"MEDAPPT_DB_POOL_SIZE": "8", "MEDAPPT_MAX_CONCURRENT_REQUESTS": "12"}
    assert load_settings(chosen).max_concurrent_requests == 12
