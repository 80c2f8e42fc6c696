"""The ASGI application: GraphQL, health, readiness and metrics, behind the HTTP edge
(medappt/http)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from medappt.http.access_log import AccessLog
from medappt.http.body_limit import BodyLimit
from medappt.http.concurrency_limit import ConcurrencyLimit
from medappt.http.cors import AllowListCors
from medappt.http.deadline import Deadline
from medappt.http.graphql_app import GraphQLApp
from medappt.http.public_reads import PublicReads
from medappt.http.response_headers import ResponseHeaders
from medappt.http.tracing import traced
from schema import build_schema
from services.container import Services, open_services
from services.metrics import exposition, process_ended
from services.persisted_documents.hashes import document_hash
from services.persisted_documents.known import KnownDocuments
from services.server_health import wait_for_servers
from services.settings import Settings


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """The background probes' last verdict (at most half a second old): answered at
    once, even while a server hangs."""
    health = request.state.services.health
    checks = {
        "database": "ok" if health.database_up else "unreachable",
        "redis": "ok" if health.redis_up else "unreachable",
    }
    ok = health.ready
    return JSONResponse({"status": "ready" if ok else "not ready", **checks}, 200 if ok else 503)


async def metrics(_: Request) -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def create_app(
    settings: Settings,
    tracer_provider: TracerProvider | None = None,
    *,
    started: Callable[[], None] | None = None,
) -> ASGIApp:
    """The app; traced when given a provider (services/tracing.py), which it shuts down
    (exporting what is left) when it stops. ``started`` runs once its services are open,
    before the first request."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Services]]:
        # serve waits for PostgreSQL and Redis at start (MEDAPPT_STARTUP_WAIT_S).
        await wait_for_servers(
            settings.require_database_url(), settings.require_redis_url(), settings.startup_wait_s
        )
        # Starlette copies this state into every request's ``request.state``.
        try:
            async with open_services(settings, tracer_provider) as services:
                if started is not None:
                    started()
                yield {"services": services}
        finally:
            process_ended()
            if tracer_provider is not None:
                tracer_provider.shutdown()

    dev = not settings.is_prod
    documents = KnownDocuments(settings.trusted_documents)
    schema = build_schema(
        introspection=dev,
        suggestions=dev,
        max_query_cost=settings.max_query_cost,
        traced_resolvers=tracer_provider is not None,
        documents=documents,
        executor=settings.executor,
    )
    graphql_app = GraphQLApp(
        schema,
        documents=documents,
        graphql_ide="graphiql" if dev else None,
        allowed_origins=settings.cors_origins,
    )
    graphql = PublicReads(
        graphql_app,
        documents=documents,
        max_age=settings.public_max_age_s,
        # Cached responses are of this schema: another release does not serve them.
        schema_fingerprint=document_hash(schema.as_str())[:16],
    )
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            # Subscriptions (graphql-transport-ws); the HTTP middlewares pass it through.
            WebSocketRoute("/graphql", graphql_app),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        # Outermost first: every response gets the headers, a 413 included.
        middleware=[
            Middleware(ResponseHeaders),
            # Every response is logged and counted, the deadline's own included.
            Middleware(AccessLog),
            Middleware(
                Deadline,
                seconds=settings.request_timeout_s,
                max_query_cost=settings.max_query_cost,
            ),
            # Requests past the limit wait here, inside the deadline, holding nothing.
            Middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests),
            # The client is the socket's peer unless that is a trusted proxy; then
            # the first address in X-Forwarded-For, from the right, that is not one.
            Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies)),
            Middleware(
                AllowListCors,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID", "Retry-After"],
                max_age=600,
            ),
            Middleware(
                BodyLimit,
                max_bytes=settings.max_body_bytes,
                max_query_cost=settings.max_query_cost,
            ),
        ],
        lifespan=lifespan,
    )
    return app if tracer_provider is None else traced(app, tracer_provider)
