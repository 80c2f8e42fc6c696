"""Headers every response carries, and the request id that ties a response to its log lines."""

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A client's id is kept when it is plainly an id: no spaces, quotes or control
# characters to smuggle into logs and headers.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:+=/-]{1,128}")

_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-ID when sane, else a new one."""
    sent = dict(scope["headers"]).get(b"x-request-id", b"")
    return sent.decode() if _SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


class ResponseHeaders:
    """Sets ``request_id`` in the request state, and on every response X-Request-ID,
    nosniff, no-referrer and, unless the application chose a caching policy for
    public data, ``Cache-Control: no-store``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                for name, value in _ALWAYS:
                    headers[name] = value
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
