"""Headers every response carries, and the request id that ties a response to its log lines."""

import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A client's id is kept when it is plainly an id: no spaces, quotes or control
# characters to smuggle into logs and headers.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:+=/-]{1,128}")

# Appended as raw pairs: MutableHeaders' item assignment scans and rewrites the list
# once per header (9 µs a response, a middleware's worth).
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_NO_STORE = (b"cache-control", b"no-store")


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-ID when sane, else a new one: 32 random hex digits (as a
    UUID's hex, made in a fifth of uuid4's time)."""
    sent = dict(scope["headers"]).get(b"x-request-id", b"")
    return sent.decode() if _SANE_REQUEST_ID.fullmatch(sent) else secrets.token_hex(16)


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
                # No application sets these three; only public reads set Cache-Control.
                headers = list(message.get("headers", ()))
                headers += [(b"x-request-id", request_id.encode()), *_ALWAYS]
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
