"""CORS for the origins of ``MEDAPPT_CORS_ORIGINS`` only."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Send


class AllowListCors(CORSMiddleware):
    """Starlette's CORS, except that a response to an origin not on the list carries
    no CORS header at all (Starlette would still send Access-Control-Expose-Headers)."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("Origin")
        if origin is not None and not self.is_allowed_origin(origin=origin):
            request_headers = Headers(
                raw=[(name, value) for name, value in request_headers.raw if name != b"origin"]
            )
        await super().send(message, send, request_headers)
