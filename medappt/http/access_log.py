"""One access line per request, and the request metrics, written when the response ends."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.metrics import graphql_series, operation_labels
from services.request_record import RequestRecord, current_request

logger = logging.getLogger("medappt.access")

GRAPHQL_PATH = "/graphql"


class AccessLog:
    """Opens the request's record (services/request_record.py), which GraphQL fills in,
    and at the end logs it: method, path without the query string (a GET may carry
    variables there), status, code, duration and the ids, never a body or a header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = RequestRecord(request_id=scope["state"]["request_id"])
        token = current_request.set(record)
        status = 500  # unless a response starts: the server answers 500 for us

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            if record.code is not None and scope["path"] == GRAPHQL_PATH:
                operation = operation_labels.label(record.operation or "anonymous")
                requests, duration = graphql_series(operation, record.code)
                requests.inc()
                duration.observe(seconds)
            logger.info(
                "%s %s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status,
                record.code or "-",
                seconds * 1000,
                extra={
                    "access": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "code": record.code,
                        "duration_ms": round(seconds * 1000, 3),
                    }
                },
            )
            current_request.reset(token)
