"""Health, readiness, GraphiQL and the behaviour that differs in production."""

import dataclasses
import json
from collections.abc import AsyncIterator
from functools import _lru_cache_wrapper
from typing import Any, cast

import httpx
import pytest

from services.auth.keys import generate_signing_key
from services.settings import Settings
from tests.support.api import error_codes, graphql, serving


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    ready = await client.get("/ready")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "database": "ok", "redis": "ok"},
    )


async def test_ready_reports_an_unreachable_redis(settings: Settings) -> None:
    # No start-up wait: the API starts at once and says it is not ready.
    unreachable = dataclasses.replace(
        settings, redis_url="redis://127.0.0.1:9/0", startup_wait_s=0.0
    )
    async with serving(unreachable) as url, httpx.AsyncClient(base_url=url) as http:
        ready = await http.get("/ready")

    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "not ready", "database": "ok", "redis": "unreachable"},
    )


async def test_graphiql_is_served_in_dev(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()


@pytest.fixture
async def prod_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    key = json.dumps(generate_signing_key().as_dict(private=True))
    prod = dataclasses.replace(settings, env="prod", jwt_private_key=key)
    async with serving(prod) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_production_serves_no_graphiql_and_no_introspection(
    prod_client: httpx.AsyncClient,
) -> None:
    page = await prod_client.get("/graphql", headers={"Accept": "text/html"})
    introspection = await graphql(prod_client, "{ __schema { queryType { name } } }")
    plain = await graphql(prod_client, "{ clinics { id } }")

    assert page.status_code == 404
    assert introspection["data"] is None
    assert error_codes(introspection) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert [error["message"] for error in introspection["errors"]] == [
        "GraphQL introspection has been disabled, but the requested query contained the field "
        f"'{field}'."
        for field in ("__schema", "queryType")
    ]
    assert "errors" not in plain


async def test_syntax_and_validation_errors_are_bad_user_input(client: httpx.AsyncClient) -> None:
    syntax = await graphql(client, "{ clinics { id }")
    unknown_field = await graphql(client, "{ clinics { nope } }")

    assert error_codes(syntax) == ["BAD_USER_INPUT"]
    assert syntax["errors"][0]["message"] == "Syntax Error: Expected Name, found <EOF>."
    assert error_codes(unknown_field) == ["BAD_USER_INPUT"]
    assert unknown_field["errors"][0]["message"] == (
        "Cannot query field 'nope' on type 'Clinic'. Did you mean 'name'?"
    )


async def test_unexpected_errors_are_masked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("connection to db-primary.internal:5432 failed for patient Jane Roe")

    monkeypatch.setattr("resolvers.clinics.list_clinics", broken)

    body = await graphql(client, "{ clinics { id } }")

    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Internal server error.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["clinics"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        ],
    }


async def test_a_repeated_document_is_validated_once(client: httpx.AsyncClient) -> None:
    # The validation cache is keyed on the document's text, and the rules are
    # the same tuple every time, so it hits.
    from schema.limits.validation import validate_query

    cache = cast("_lru_cache_wrapper[Any]", validate_query)
    query = "query CacheProbe { clinics { id name } }"
    await graphql(client, query)
    before = cache.cache_info()

    for _ in range(3):
        await graphql(client, query)

    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)
