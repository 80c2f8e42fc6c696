"""The benchmarked query, lighter shapes of it, and the checks its answers must pass."""

import json
import uuid
from typing import Any

import aiohttp

from bench.load import OK, Request
from bench.records.database import RECORDS
from bench.records.servers import Server

QUERY = (
    "query P($id: ID!) { patient(id: $id) { id name records(first: 50) { edges { node "
    "{ id title recordType uploadedAt doctor { name } documentUrl } } } } }"
)

# The benchmarked query and lighter ones, to price each part of it on the product.
SHAPES: dict[str, str] = {
    "full": QUERY,
    "no documentUrl": QUERY.replace(" documentUrl", ""),
    "no doctor": QUERY.replace(" doctor { name }", ""),
    "scalars only": QUERY.replace(" doctor { name } documentUrl", ""),
    "patient only": "query P($id: ID!) { patient(id: $id) { id name } }",
}


def graphql_request(patient_id: uuid.UUID, token: str, query: str = QUERY) -> Request:
    body = {"query": query, "variables": {"id": str(patient_id)}}
    return Request(
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )


def classify(_: int, status: int, body: bytes) -> str:
    if status != 200:
        return f"HTTP {status}"
    if b'"errors"' in body:
        return "GraphQL errors"
    return OK


async def post(http: aiohttp.ClientSession, url: str, request: Request) -> dict[str, Any]:
    async with http.post(url, data=request.body, headers=request.headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {await response.text()}")
        answer: dict[str, Any] = json.loads(await response.read())
        if answer.get("errors") or answer.get("data", {}).get("patient") is None:
            raise RuntimeError(f"{url}: unexpected answer: {json.dumps(answer)[:500]}")
        return answer


def links(answer: dict[str, Any]) -> list[str]:
    edges = answer["data"]["patient"]["records"]["edges"]
    return [edge["node"]["documentUrl"] for edge in edges]


def normalized(answer: dict[str, Any]) -> str:
    """The answer with each link's query string (its signature and time) left out, and
    without the product's ``extensions`` (the cost of the operation), which B does not
    compute."""
    copy = json.loads(json.dumps(answer))
    copy.pop("extensions", None)
    for edge in copy["data"]["patient"]["records"]["edges"]:
        edge["node"]["documentUrl"] = edge["node"]["documentUrl"].partition("?")[0]
    return json.dumps(copy)


async def check_answer(
    http: aiohttp.ClientSession, server: Server, request: Request, reference: str | None
) -> str:
    """The server's answer to ``QUERY``, normalized, after checking it against ``reference``
    (the product's): 50 records, the same JSON, the same links again on a second request."""
    first = await post(http, server.graphql_url, request)
    second = await post(http, server.graphql_url, request)
    got = normalized(first)
    count = len(links(first))
    if count != RECORDS:
        raise RuntimeError(f"{server.url}: {count} records, not {RECORDS}")
    if links(first) != links(second):
        raise RuntimeError(f"{server.url}: the second request did not reuse the links")
    if reference is not None and got != reference:
        raise RuntimeError(f"{server.url} answers differently:\n{got[:800]}\n{reference[:800]}")
    return got
