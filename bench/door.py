"""What the door costs: the worst requests under 100 KB, and the checks on an ordinary request.

Run with ``python -m bench.door`` (about a minute). It starts an embedded PostgreSQL
and Redis, migrates, and runs one ``medappt serve --workers 1`` (rate limits off: the
attack comes from one address). Two Markdown tables:

- Each candidate document (at most 100 KB; fragments, aliases, directives, duplicate
  fields, a cost just under the limit, padding, big strings and variables) sent
  ``--repeat`` times, each copy made unique by a comment so that no cache helps:
  outcome, median and worst server round trip, and the median answer time of a
  ``/health`` sent while it was in flight. The database is empty: this measures the
  door and the executor's start, not the work a query would do on real data.
- The checks on the records query of ``bench.records``, in process: the cached parse
  and validation, the cost, and the one Redis round trip of the rate limits.
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop
from graphql import GraphQLSyntaxError, get_operation_ast, specified_rules
from redis.asyncio import Redis

from bench.api_server import running_api
from bench.records.query import QUERY as RECORDS_QUERY
from db.migrate import upgrade
from devtools.embedded import EmbeddedStack
from schema import build_schema
from schema.limits.cost import operation_cost
from schema.limits.cost_cache import cached_operation_cost
from schema.limits.parsing import parse_document
from schema.limits.validation import validate_document, validate_query
from services.rate_limits.budgets import RateLimits
from services.rate_limits.request_budgets import charge_request

MAX_BYTES = 100 * 1024
DAY = '"2030-01-07"'
SLOT = "startsAt endsAt available clinic { id }"


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    query: str
    variables: dict[str, Any]


def _bomb(levels: int, fan_out: int) -> str:
    spreads = [
        f"fragment F{n} on Query {{ {' '.join([f'...F{n + 1}'] * fan_out)} }}"
        for n in range(levels)
    ]
    return f"{{ ...F0 }} {' '.join(spreads)} fragment F{levels} on Query {{ __typename }}"


def _slots_page(alias: str, first: int) -> str:
    return (
        f"{alias}: doctors(first: {first}) {{ edges {{ node {{ name"
        f" availableSlots(date: {DAY}) {{ {SLOT} }} }} }} }}"
    )


def candidates() -> list[Candidate]:
    """The worst documents found for each way of making one expensive."""
    records = 'query P($s: [AppointmentStatus!]) { patient(id: "00000000-0000-0000-0000-000000000000") { appointments(status: $s) { edges { cursor } } } }'  # noqa: E501
    found = [
        Candidate("fragment bomb, 10^7 spreads (the issue's)", _bomb(7, 10), {}),
        Candidate("fragment bomb, 57 levels of 10 (1,493 tokens)", _bomb(57, 10), {}),
        Candidate("duplicate fields, 1,498 tokens", "{" + " clinics { id }" * 374 + " }", {}),
        Candidate(
            "124 fragments spread together",
            "{ "
            + " ".join(f"...G{n}" for n in range(124))
            + " } "
            + " ".join(f"fragment G{n} on Query {{ clinics {{ id }} }}" for n in range(124)),
            {},
        ),
        Candidate(
            "149 aliases with a directive each",
            "{ " + " ".join(f"a{n}: __typename @include(if: true)" for n in range(149)) + " }",
            {},
        ),
        Candidate(
            "10 levels deep, fragments and aliases",
            '{ appointment(id: "00000000-0000-0000-0000-000000000000") { ...A } } fragment A on'
            " Appointment { p1: patient { appointments { edges { node { ...B } } } } }"
            " fragment B on Appointment { p2: patient { appointments { edges { node {"
            " clinic { id name address timezone } } } } } }",
            {},
        ),
        Candidate(
            "cost 49,064 of 50,000 (34 doctors' days)",
            "{ " + _slots_page("a", 20) + " " + _slots_page("b", 14) + " }",
            {},
        ),
        Candidate(
            "cost 28.7 million: 199 aliased default pages",
            "{ "
            + " ".join(f"a{n}: doctors {{ ...E }}" for n in range(199))
            + f" }} fragment E on DoctorConnection {{ edges {{ node {{"
            f" availableSlots(date: {DAY}) {{ {SLOT} }} }} }} }}",
            {},
        ),
        Candidate("100 KB of whitespace", "{ __typename }" + " " * (MAX_BYTES - 200), {}),
        Candidate("100 KB of comment", "{ __typename }\n#" + "x" * (MAX_BYTES - 200), {}),
        Candidate(
            "100 KB string argument",
            '{ doctors(specialty: "' + "x" * (MAX_BYTES - 200) + '") { edges { cursor } } }',
            {},
        ),
        Candidate("7,500 enum values in variables", records, {"s": ["SCHEDULED"] * 7500}),
    ]
    for candidate in found:
        size = len(json.dumps({"query": candidate.query, "variables": candidate.variables}))
        assert size <= MAX_BYTES, (candidate.name, size)
    return found


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    size: int
    result: str
    median_ms: float
    worst_ms: float
    health_ms: float
    door_ms: float  # parse, validation and cost in this process, the best of the repeats


async def _attack(http: httpx.AsyncClient, candidate: Candidate, repeat: int) -> Outcome:
    timings: list[float] = []
    health: list[float] = []
    result = ""
    for n in range(repeat):
        # A unique comment: neither the parse nor the validation cache helps.
        body = {
            "query": f"# {n} {time.time_ns()}\n{candidate.query}",
            "variables": candidate.variables,
        }
        started = time.perf_counter()
        request = asyncio.create_task(http.post("/graphql", json=body))
        await asyncio.sleep(0)
        health_started = time.perf_counter()
        await http.get("/health")
        health.append(time.perf_counter() - health_started)
        response = await request
        timings.append(time.perf_counter() - started)
        errors = response.json().get("errors") or []
        result = errors[0]["extensions"]["code"] if errors else "runs"
    size = len(json.dumps({"query": candidate.query, "variables": candidate.variables}))
    return Outcome(
        candidate.name,
        size,
        result,
        statistics.median(timings) * 1000,
        max(timings) * 1000,
        statistics.median(health) * 1000,
        _door_ms(candidate, repeat),
    )


def _door_ms(candidate: Candidate, repeat: int) -> float:
    """The door alone, without HTTP or a busy machine's noise: the best of ``repeat``."""
    schema, rules = build_schema()._schema, tuple(specified_rules)
    best = float("inf")
    for n in range(repeat):
        query = f"# door {n}\n{candidate.query}"
        started = time.perf_counter()
        try:
            document = parse_document(query)
        except GraphQLSyntaxError:
            best = min(best, time.perf_counter() - started)
            continue
        if not validate_document(schema, document, rules, False):
            operation = get_operation_ast(document)
            assert operation is not None
            operation_cost(schema, document, operation, candidate.variables)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _microseconds(call: Callable[[], object], number: int = 2000) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, (time.perf_counter() - started) / number)
    return best * 1e6


async def _ordinary_request(redis_url: str) -> list[tuple[str, float]]:
    schema = build_schema()._schema
    rules = tuple(specified_rules)
    document = parse_document(RECORDS_QUERY)
    operation = get_operation_ast(document)
    assert operation is not None
    validate_query(schema, RECORDS_QUERY, rules, False)
    rows = [
        ("parse (cache hit)", _microseconds(lambda: parse_document(RECORDS_QUERY))),
        (
            "validation (cache hit)",
            _microseconds(lambda: validate_query(schema, RECORDS_QUERY, rules, False)),
        ),
        ("cost, computed", _microseconds(lambda: operation_cost(schema, document, operation, {}))),
        (
            "cost (cache hit, keyed on the text, operation and `first` variables)",
            _microseconds(
                lambda: cached_operation_cost(schema, RECORDS_QUERY, document, operation, {})
            ),
        ),
    ]
    # A document seen before (in full or by hash) is costed from memory.
    rows.append(
        ("the checks in process, together", sum(micros for _, micros in rows[:2] + rows[3:]))
    )
    redis = Redis.from_url(redis_url)
    try:
        limits, number = RateLimits(), 2000
        best = float("inf")
        for round_ in range(5):
            started = time.perf_counter()
            for n in range(number):
                await charge_request(
                    redis,
                    limits,
                    ip=f"10.{round_}.{n // 250}.{n % 250}",
                    user_id=f"bench-{round_}-{n}",
                    cost=454,
                    registrations=0,
                    logins=0,
                )
            best = min(best, (time.perf_counter() - started) / number)
        rows.append(("rate limits: one Redis round trip (EVALSHA, 2 buckets)", best * 1e6))
    finally:
        await redis.aclose()
    return rows


async def _run(repeat: int, database_url: str, redis_url: str) -> None:
    with running_api(database_url, redis_url) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            await http.get("/health")
            outcomes = [await _attack(http, c, repeat) for c in candidates()]
    print(
        "| request | bytes | outcome | median ms | worst ms | /health meanwhile, ms"
        " | door in process, best ms |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    for o in outcomes:
        print(
            f"| {o.name} | {o.size:,} | {o.result} | {o.median_ms:.1f} | {o.worst_ms:.1f}"
            f" | {o.health_ms:.1f} | {o.door_ms:.1f} |"
        )
    print()
    print("| check on the records query | µs |")
    print("|---|---:|")
    for name, micros in await _ordinary_request(redis_url):
        print(f"| {name} | {micros:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=20, help="sends of each document")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="medappt-door-") as data_dir,
        EmbeddedStack(Path(data_dir), postgres=True, redis=True, s3=False, durable=False) as stack,
    ):
        assert stack.database_url is not None
        assert stack.redis_url is not None
        upgrade(stack.database_url)
        # uvloop, as `medappt serve` runs.
        uvloop.run(_run(args.repeat, stack.database_url, stack.redis_url))


if __name__ == "__main__":
    main()
