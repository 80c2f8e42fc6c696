"""The ASGI application: GraphQL, health and readiness, behind the HTTP edge (medappt/http)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from medappt.http.body_limit import BodyLimit
from medappt.http.cors import AllowListCors
from medappt.http.graphql_app import GraphQLApp
from medappt.http.response_headers import ResponseHeaders
from schema import build_schema
from services.container import Services, open_services
from services.settings import Settings


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    services: Services = request.state.services
    checks: dict[str, str] = {}
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = "unreachable"
    try:
        await services.redis.ping()
        checks["redis"] = "ok"
    except Exception:  # noqa: BLE001
        checks["redis"] = "unreachable"
    ok = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ok else "not ready", **checks}, 200 if ok else 503)


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Services]]:
        # Starlette copies this state into every request's ``request.state``.
        async with open_services(settings) as services:
            yield {"services": services}

    dev = not settings.is_prod
    graphql = GraphQLApp(
        build_schema(introspection=dev, suggestions=dev, max_query_cost=settings.max_query_cost),
        graphql_ide="graphiql" if dev else None,
        allow_queries_via_get=False,
    )
    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        # Outermost first: every response gets the headers, a 413 included.
        middleware=[
            Middleware(ResponseHeaders),
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
