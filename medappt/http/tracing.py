"""The ASGI app traced by OpenTelemetry's middleware, without the query string in spans."""

from opentelemetry.sdk.trace import TracerProvider
from starlette.types import ASGIApp, Receive, Scope, Send

# A GET may carry a document's variables in its query string: spans must not.
_HIDDEN_QUERY = "medappt.query_string"


def traced(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """A server span per request (and per WebSocket), parent of everything under it."""

    async def restore_query(scope: Scope, receive: Receive, send: Send) -> None:
        if _HIDDEN_QUERY in scope:
            scope = dict(scope, query_string=scope[_HIDDEN_QUERY])
        await app(scope, receive, send)

    # Imported here: an untraced process does not load the instrumentation.
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware  # noqa: PLC0415

    middleware = OpenTelemetryMiddleware(
        restore_query, tracer_provider=provider, exclude_spans=["receive", "send"]
    )

    async def hide_query(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope, query_string=b"", **{_HIDDEN_QUERY: scope.get("query_string", b"")})
        await middleware(scope, receive, send)

    return hide_query
