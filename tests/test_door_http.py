"""The HTTP edge: body limit, JSON bodies, the headers of every response, CORS."""

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.settings import Settings
from tests.support.api import serving

LIMIT = 4096  # room for a body nested past both JSON parsers' depth
ALLOWED = "https://app.example.test"


@pytest.fixture(scope="module")
async def edge_url(settings: Settings, api_url: str) -> AsyncIterator[str]:
    # api_url: the database is migrated and the bucket exists.
    small = dataclasses.replace(settings, max_body_bytes=LIMIT, cors_origins=(ALLOWED,))
    async with serving(small) as url:
        yield url


@pytest.fixture
async def edge(edge_url: str, sessions: object) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge_url, timeout=30) as http:
        yield http


def _refusal(message: str, code: str) -> dict[str, Any]:
    return {
        "errors": [{"message": message, "extensions": {"code": code}}],
        "extensions": {"cost": {"requested": 0, "limit": 50_000}},
    }


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    edge: httpx.AsyncClient,
) -> None:
    query = "{ clinics { id } }" + " " * LIMIT
    response = await edge.post("/graphql", json={"query": query})

    assert response.status_code == 413
    assert response.json() == _refusal(
        f"The request body is larger than {LIMIT} bytes.", "PAYLOAD_TOO_LARGE"
    )


async def test_a_streamed_body_is_cut_off_at_the_limit(edge: httpx.AsyncClient) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the server learns the size only by reading.
        for _ in range(1000):
            sent.append(512)
            yield b" " * 512

    response = await edge.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_just_under_the_limit_runs(edge: httpx.AsyncClient) -> None:
    query = "{ __typename }"
    padding = LIMIT - len(f'{{"query": "{query}"}}')
    body = f'{{"query": "{query}"{" " * padding}}}'.encode()
    assert len(body) == LIMIT

    response = await edge.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert (response.status_code, response.json()["data"]) == (200, {"__typename": "Query"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "{ clinics { id } }"', "The request body is not valid JSON."),
        (b"\xff\xfe\xfa", "The request body is not valid JSON."),
        (b"[" * 2000 + b"]" * 2000, "The request body is not valid JSON."),  # too deep
        (b'"hello"', "The request body must be a JSON object."),
        (b"123", "The request body must be a JSON object."),
        (b"null", "The request body must be a JSON object."),
        (b'[{"query": "{ __typename }"}]', "The request body must be a JSON object."),
    ],
)
async def test_a_body_that_is_no_json_object_is_bad_user_input(
    edge: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await edge.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == _refusal(message, "BAD_USER_INPUT")


async def test_other_http_refusals_have_the_graphql_shape(edge: httpx.AsyncClient) -> None:
    no_query = await edge.post("/graphql", json={"variables": {}})
    wrong_type = await edge.post(
        "/graphql", content=b"query=x", headers={"Content-Type": "text/plain"}
    )

    assert (no_query.status_code, no_query.json()) == (
        400,
        _refusal("No GraphQL query found in the request", "BAD_USER_INPUT"),
    )
    assert (wrong_type.status_code, wrong_type.json()) == (
        400,
        _refusal("Unsupported content type", "BAD_USER_INPUT"),
    )


_HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("path", "method", "content"),
    [
        ("/graphql", "POST", b'{"query": "{ __typename }"}'),
        ("/graphql", "POST", b"nope"),
        ("/graphql", "POST", b" " * (LIMIT + 1)),
        ("/health", "GET", b""),
        ("/ready", "GET", b""),
        ("/nowhere", "GET", b""),
    ],
)
async def test_every_response_carries_the_contract_headers(
    edge: httpx.AsyncClient, path: str, method: str, content: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    kept = await edge.request(
        method, path, content=content, headers={**headers, "X-Request-ID": "req-42.a"}
    )
    fresh = await edge.request(method, path, content=content, headers=headers)
    insane = await edge.request(
        method, path, content=content, headers={**headers, "X-Request-ID": "two words"}
    )

    for response in (kept, fresh, insane):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        once = ("X-Request-ID", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control")
        assert [len(response.headers.get_list(name)) for name in once] == [1, 1, 1, 1]
    assert kept.headers["X-Request-ID"] == "req-42.a"
    assert _HEX_ID.fullmatch(fresh.headers["X-Request-ID"])
    assert _HEX_ID.fullmatch(insane.headers["X-Request-ID"])
    assert fresh.headers["X-Request-ID"] != insane.headers["X-Request-ID"]


async def test_cors_headers_go_only_to_allowed_origins(edge: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    allowed = await edge.options("/graphql", headers={"Origin": ALLOWED, **preflight})
    other = await edge.options("/graphql", headers={"Origin": "https://evil.test", **preflight})
    allowed_post = await edge.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
    )
    other_post = await edge.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.test"}
    )

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert other.status_code == 400
    assert "Access-Control-Allow-Origin" not in other.headers
    assert allowed_post.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "x-request-id" in allowed_post.headers["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in other_post.headers


async def test_a_request_without_origin_gets_vary_origin_and_no_cors_header(
    edge: httpx.AsyncClient,
) -> None:
    response = await edge.post("/graphql", json={"query": "{ __typename }"})

    assert response.json()["data"] == {"__typename": "Query"}
    assert response.headers.get_list("Vary") == ["Origin"]
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


async def test_without_configured_origins_no_cors_header_is_sent(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
    )

    assert response.status_code == 200
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


async def test_an_integer_past_64_bits_is_the_variables_error_not_the_bodys(
    edge: httpx.AsyncClient,
) -> None:
    body = (
        b'{"query": "query Q($first: Int) { doctors(first: $first) { edges { node { id } } } }",'
        b' "variables": {"first": 123456789012345678901234567890}}'
    )
    response = await edge.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    # Read as the nearest float, as JSON's numbers are by most parsers: refused by its type.
    assert response.status_code == 200
    assert response.json()["errors"] == [
        {
            "message": "first: Int cannot represent non 32-bit signed integer value: "
            "1.2345678901234568e+29",
            "locations": [{"line": 1, "column": 9}],
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]
    assert response.json()["data"] is None
