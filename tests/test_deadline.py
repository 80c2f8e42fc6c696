"""MEDAPPT_REQUEST_TIMEOUT_S: the middleware alone, around apps that hang, clean up slowly,
answer late or fail after being abandoned. The deadline is a real timer of 50 ms."""

import asyncio
import logging
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from medappt.http.deadline import DEADLINE_MESSAGE, Deadline
from services.request_record import RequestRecord, current_request

SECONDS = 0.05
BODY_503 = {
    "errors": [{"message": DEADLINE_MESSAGE, "extensions": {"code": "SERVICE_UNAVAILABLE"}}],
    "extensions": {"cost": {"requested": 0, "limit": 100}},
}


class SlowApp:
    """Waits for ``answer`` before its response (forever, unless set); once cancelled, its
    clean-up waits for ``cleaned``, then raises ``then`` if given."""

    def __init__(self, then: BaseException | None = None) -> None:
        self.answer = asyncio.Event()
        self.cleaned = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.cleanup_done = False
        self.then = then

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.answer.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            await self.cleaned.wait()
            self.cleanup_done = True
            if self.then is not None:
                raise self.then from None
            raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})


class Client:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.complete = asyncio.Event()

    async def receive(self) -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.complete.set()

    def status_and_body(self) -> tuple[int, Any]:
        start, body = self.messages
        return start["status"], orjson.loads(body["body"])


def _scope() -> Scope:
    return {"type": "http", "method": "POST", "path": "/graphql", "headers": []}


async def _run(app: SlowApp, client: Client) -> "asyncio.Task[None]":
    deadline = Deadline(app, seconds=SECONDS, max_query_cost=100)
    return asyncio.create_task(deadline(_scope(), client.receive, client.send))


async def test_a_hung_request_gets_503_while_its_clean_up_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, client = SlowApp(), Client()
    record = RequestRecord(request_id="r-1")
    token = current_request.set(record)
    try:
        request = await _run(app, client)
    finally:
        current_request.reset(token)

    with caplog.at_level(logging.WARNING, logger="medappt.deadline"):
        await asyncio.wait_for(client.complete.wait(), 5)
    assert app.cancelled.is_set()
    assert (request.done(), app.cleanup_done) == (False, False)
    assert client.status_and_body() == (503, BODY_503)
    assert record.code == "SERVICE_UNAVAILABLE"
    assert [r.getMessage() for r in caplog.records] == [
        "deadline of 0.05 s passed; request abandoned"
    ]

    app.cleaned.set()
    await asyncio.wait_for(request, 5)  # ends normally: the cancellation was the deadline's
    assert app.cleanup_done
    assert len(client.messages) == 2  # nothing the clean-up did reached the client


async def test_an_error_in_an_abandoned_clean_up_is_logged_by_its_type_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, client = SlowApp(then=RuntimeError("patient Jane Roe")), Client()
    with caplog.at_level(logging.WARNING, logger="medappt.deadline"):
        request = await _run(app, client)
        await asyncio.wait_for(client.complete.wait(), 5)
        app.cleaned.set()
        await asyncio.wait_for(request, 5)

    assert client.status_and_body() == (503, BODY_503)
    assert [r.getMessage() for r in caplog.records] == [
        "deadline of 0.05 s passed; request abandoned",
        "abandoned request ended with RuntimeError",
    ]


async def test_a_response_in_time_is_untouched() -> None:
    app, client = SlowApp(), Client()
    app.answer.set()
    request = await _run(app, client)
    await asyncio.wait_for(request, 5)

    assert [m["type"] for m in client.messages] == ["http.response.start", "http.response.body"]
    assert client.messages[1]["body"] == b"late"
    assert not app.cancelled.is_set()


async def test_a_cancellation_from_elsewhere_is_not_swallowed() -> None:
    app, client = SlowApp(), Client()
    app.cleaned.set()
    request = await _run(app, client)
    await asyncio.sleep(0)  # the app is waiting for its answer
    request.cancel()

    with pytest.raises(asyncio.CancelledError):
        await request
    assert client.messages == []
