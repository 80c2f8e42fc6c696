"""Validation in time linear in the document: a fragment bomb is refused at once, and the
server answers /health meanwhile."""

import asyncio
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import httpx
from graphql import GraphQLSchema, get_operation_ast, parse

from schema import build_schema
from schema.limits.cost import operation_cost
from schema.limits.document_shape import shape_errors

# The issue asks for both under 50 ms. The refusal takes about 6 ms of CPU here;
# the best of three attempts keeps a busy test machine from failing the run.
BOUND_SECONDS = 0.050
ATTEMPTS = 3


def fragment_bomb(levels: int, *, prefix: str = "F", fan_out: int = 10) -> str:
    """`{...F0} fragment F0 on Query {...F1 x10} ... fragment F7 on Query {__typename}`:
    fan_out**levels spreads of __typename in under a kilobyte."""
    spreads = [
        f"fragment {prefix}{n} on Query {{ {' '.join([f'...{prefix}{n + 1}'] * fan_out)} }}"
        for n in range(levels)
    ]
    last = f"fragment {prefix}{levels} on Query {{ __typename }}"
    return f"{{ ...{prefix}0 }} {' '.join(spreads)} {last}"


async def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def test_ten_million_spreads_are_refused_in_milliseconds(
    client: httpx.AsyncClient,
) -> None:
    timings = []
    for attempt in range(ATTEMPTS):
        # Renamed fragments: every attempt misses the parse and validation caches.
        document = fragment_bomb(7, prefix=f"A{attempt}x")
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": document})
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
        assert body["extensions"]["cost"] == {"requested": 10_000_000, "limit": 50_000}
    assert len(fragment_bomb(7)) < 1000
    assert min(timings) < BOUND_SECONDS, timings


async def test_health_answers_while_a_bomb_is_being_refused(
    client: httpx.AsyncClient, api_url: str
) -> None:
    health_timings = []
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as health_client:
        await health_client.get("/health")  # an open connection, as a load balancer keeps
        for attempt in range(ATTEMPTS):
            document = fragment_bomb(7, prefix=f"H{attempt}x")
            bomb = asyncio.create_task(client.post("/graphql", json={"query": document}))
            await asyncio.sleep(0)  # the bomb's request is on its way first
            elapsed, health = await _timed(lambda: health_client.get("/health"))
            refused = await bomb
            assert health.status_code == 200
            assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            health_timings.append(elapsed)
    assert min(health_timings) < BOUND_SECONDS, health_timings


def _door_checks(schema: GraphQLSchema, document_text: str) -> int:
    """Python calls the door's own checks (depth, aliases, cost) make on a parsed document:
    work done, counted exactly, so the test holds however busy the machine is."""
    document = parse(document_text)
    operation = get_operation_ast(document)
    assert operation is not None
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        assert shape_errors(document) == []
        operation_cost(schema, document, operation, {})
    finally:
        sys.setprofile(None)
    return calls


def test_the_checks_grow_linearly_with_the_document() -> None:
    schema = build_schema()._schema
    # 10, 100 and 1,000 levels of ten spreads: 10**10 to 10**1000 spreads in all,
    # which checks that follow every spread could never finish.
    sizes = {factor: fragment_bomb(10 * factor) for factor in (1, 10, 100)}
    work = {factor: _door_checks(schema, document) for factor, document in sizes.items()}

    assert len(sizes[100]) / len(sizes[1]) > 90
    # Linear: about 10x and 100x the calls (a constant part makes it a little less).
    assert 5 * work[1] < work[10] < 11 * work[1], work
    assert 50 * work[1] < work[100] < 110 * work[1], work
