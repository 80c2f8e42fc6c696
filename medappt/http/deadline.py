"""The whole-request deadline (MEDAPPT_REQUEST_TIMEOUT_S): an answer by then, whatever hangs."""

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medappt.http.error_body import error_response
from services.errors import ErrorCode
from services.request_record import note_outcome

logger = logging.getLogger("medappt.deadline")

DEADLINE_MESSAGE = "The request did not finish in time; try again."


class Deadline:
    """Runs the request as a task of its own. If no response has started when the
    deadline passes, the client gets SERVICE_UNAVAILABLE (HTTP 503) at once and the
    task is cancelled; its clean-up (a connection to a server that does not answer)
    may take longer, but no longer holds the client."""

    def __init__(self, app: ASGIApp, *, seconds: float, max_query_cost: int) -> None:
        self.app = app
        self.seconds = seconds
        self.max_query_cost = max_query_cost
        self._abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = abandoned = False

        async def send_unless_abandoned(message: Message) -> None:
            nonlocal started
            if abandoned:  # the client has had its answer
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def run() -> None:
            await self.app(scope, receive, send_unless_abandoned)

        task = asyncio.create_task(run())
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if task in done or started:
            await task  # finished, or its response is on the way
            return
        abandoned = True
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._forget)
        note_outcome(ErrorCode.SERVICE_UNAVAILABLE.value)
        logger.warning("deadline of %g s passed; request abandoned", self.seconds)
        response = error_response(
            503, DEADLINE_MESSAGE, ErrorCode.SERVICE_UNAVAILABLE, self.max_query_cost
        )
        await response(scope, receive, send)

    def _forget(self, task: "asyncio.Task[None]") -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("abandoned request ended with %s", type(task.exception()).__name__)
