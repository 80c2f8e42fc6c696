"""CORS for the origins of ``MEDAPPT_CORS_ORIGINS`` only."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send


class AllowListCors(CORSMiddleware):
    """Starlette's CORS, except that a response to an origin not on the list carries
    no CORS header at all (Starlette would still send Access-Control-Expose-Headers),
    and that a request without an Origin (not a browser's cross-origin request: API
    clients, same-origin pages) skips Starlette's header objects: its response gets
    only what Starlette gives it, ``Origin`` added to ``Vary``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _vary_origin(list(message.get("headers", ())))
            await send(message)

        await self.app(scope, receive, send_varying)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("Origin")
        if origin is not None and not self.is_allowed_origin(origin=origin):
            request_headers = Headers(
                raw=[(name, value) for name, value in request_headers.raw if name != b"origin"]
            )
        await super().send(message, send, request_headers)


def _vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """As Starlette's ``headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])``:
    the values of every Vary header and Origin, joined in the place of the first."""
    varies = [index for index, (name, _) in enumerate(headers) if name == b"vary"]
    joined = (b"vary", b", ".join([*(headers[index][1] for index in varies), b"Origin"]))
    if not varies:
        return [*headers, joined]
    first = varies[0]
    return [joined if index == first else pair for index, pair in enumerate(headers)
            if index == first or pair[0] != b"vary"]  # fmt: skip
