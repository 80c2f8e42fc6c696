"""Bodies over ``MEDAPPT_MAX_BODY_BYTES`` get 413 after at most that many bytes were read."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medappt.http.error_body import error_response
from services.errors import ErrorCode
from services.request_record import note_outcome


class BodyLimit:
    """Reads the body in the chunks the server delivers, stopping at the limit, and
    hands the application the body it read. A declared Content-Length over the
    limit is refused before a byte of the body is read."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_query_cost: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_query_cost = max_query_cost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        note_outcome(ErrorCode.PAYLOAD_TOO_LARGE.value)
        response = error_response(
            413,
            f"The request body is larger than {self.max_bytes} bytes.",
            ErrorCode.PAYLOAD_TOO_LARGE,
            self.max_query_cost,
        )
        await response(scope, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    """The message already read, then whatever the server sends next (a disconnect)."""
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
