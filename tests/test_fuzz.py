"""Generated operations from schema.graphql, sent over HTTP as an anonymous caller, a
patient, a doctor and an admin, with their values written in the document and again in
the variables: never a 5xx, never INTERNAL_SERVER_ERROR.

A bounded run is part of every suite run; `./scripts/test -m fuzz
--hypothesis-profile=long` runs many more examples (tests/conftest.py).
"""

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import Base
from db.engine import session_factory
from db.enums import Role
from services.rate_limits.budgets import RateLimits
from services.settings import Settings
from tests.support.api import serving
from tests.support.scheduling import book_via_api, local, make_monday_world, signed_in

pytestmark = pytest.mark.fuzz

SCHEMA = graphql.build_schema((Path(__file__).parent.parent / "schema.graphql").read_text())
ROLES = ("anonymous", "patient", "doctor", "admin")
NY = "America/New_York"
# Signing out would leave the role without a token for the examples after it.
MUTATIONS = tuple(name for name in SCHEMA.mutation_type.fields if name != "logout")  # type: ignore[union-attr]

# Ids of the world below, filled in by its fixture before any example is drawn.
KNOWN_IDS: list[str] = []


def _strings(valid: st.SearchStrategy[str], *edges: str) -> st.SearchStrategy[graphql.ValueNode]:
    """Mostly values that pass coercion, so that resolvers run; some edges and junk."""
    return st.one_of(*[valid] * 8, st.sampled_from(edges), st.text(max_size=40)).map(nodes.String)


SCALARS = {
    # Values our limits accept (names, e-mail addresses, zones, content types), others.
    "String": _strings(
        st.one_of(
            st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=30),
            st.sampled_from(["Europe/Berlin", "UTC", "application/pdf", "+14155550123"]),
            st.emails().filter(lambda email: len(email) <= 254),
        ),
        "",
        "localtime",
        "a\x00b",
        "x" * 2001,
    ),
    "ID": _strings(
        st.one_of(
            st.integers(0, 63).map(lambda n: KNOWN_IDS[n % len(KNOWN_IDS)]),
            st.uuids().map(str),
        ),
        "0",
        "00000000-0000-0000-0000-000000000000",
    ),
    "Date": _strings(
        st.dates(date(2020, 1, 1), date(2040, 12, 31)).map(date.isoformat),
        *("0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "2200-12-31", "2026-02-30"),
    ),
    "DateTime": _strings(
        st.datetimes(datetime(2020, 1, 1), datetime(2040, 12, 31), timezones=st.timezones())
        .filter(lambda instant: instant.tzinfo is not None)
        .map(datetime.isoformat),
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-03-02T09:00:00",
    ),
    "Time": _strings(st.times().map(time.isoformat), "24:00", "09:00+02:00"),
}


def as_variables(document: str) -> tuple[str, dict[str, Any]]:
    """The same operation with each argument's value moved into a variable."""
    ast = graphql.parse(document)
    type_info = graphql.TypeInfo(SCHEMA)
    definitions: list[graphql.VariableDefinitionNode] = []
    variables: dict[str, Any] = {}

    class Lift(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: object) -> object:
            argument = type_info.get_argument()
            if argument is None:  # not in the schema: left for validation to refuse
                return None
            name = f"v{len(definitions)}"
            definitions.append(
                graphql.VariableDefinitionNode(
                    variable=graphql.VariableNode(name=graphql.NameNode(value=name)),
                    type=graphql.parse_type(str(argument.type)),
                )
            )
            variables[name] = graphql.value_from_ast_untyped(node.value)
            value = graphql.VariableNode(name=graphql.NameNode(value=name))
            return graphql.ArgumentNode(name=node.name, value=value)

    lifted = graphql.visit(ast, graphql.TypeInfoVisitor(type_info, Lift()))
    operation, *rest = lifted.definitions
    with_definitions = dataclasses.replace(operation, variable_definitions=tuple(definitions))
    lifted = dataclasses.replace(lifted, definitions=(with_definitions, *rest))
    return graphql.print_ast(lifted), variables


@dataclasses.dataclass(frozen=True)
class World:
    url: str
    tokens: dict[str, str | None]


@pytest.fixture(scope="module")
async def world(
    settings: Settings, engine: AsyncEngine, redis: Redis, api_url: str
) -> AsyncIterator[World]:
    """A clinic, a doctor with a schedule, a patient with a booking and an admin, served
    by an API without rate limits: the fuzzer sends far more than any one client may."""
    async with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await redis.flushdb()
    sessions = session_factory(engine)
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    unlimited = dataclasses.replace(settings, rate_limits=RateLimits(enabled=False))
    async with serving(unlimited) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            booked = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), patient)
        doctor_signed = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
        admin = await signed_in(sessions, settings, Role.ADMIN)
        KNOWN_IDS[:] = [str(clinic.id), str(doctor.id), str(patient.profile_id), booked]
        yield World(
            url=url,
            tokens={"anonymous": None, "patient": patient.token,
                    "doctor": doctor_signed.token, "admin": admin.token},
        )  # fmt: skip
    KNOWN_IDS.clear()


async def _send(world: World, role: str, query: str, variables: dict[str, Any]) -> None:
    token = world.tokens[role]
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as client:
        response = await client.post(
            "/graphql",
            content=json.dumps({"query": query, "variables": variables}),
            headers=headers,
        )
    assert response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
    assert None not in codes, body
    assert "INTERNAL_SERVER_ERROR" not in codes, body


QUERIES = tuple(SCHEMA.query_type.fields)  # type: ignore[union-attr]


def _one_field(field: str) -> st.SearchStrategy[str]:
    """An operation on one root field: one bad value then spoils only what it concerns,
    so that more operations get as far as their resolvers."""
    make = queries if field in QUERIES else mutations
    valid = make(SCHEMA, fields=[field], custom_scalars=SCALARS)
    root = SCHEMA.query_type if field in QUERIES else SCHEMA.mutation_type
    if not root.fields[field].args:  # type: ignore[union-attr]
        return valid
    # Valid operations three times as often as those with one violation of the schema.
    invalid = make(SCHEMA, fields=[field], custom_scalars=SCALARS, mode=Mode.NEGATIVE)
    return st.one_of(valid, valid, valid, invalid)


OPERATIONS = st.sampled_from(QUERIES + MUTATIONS).flatmap(_one_field)


@pytest.mark.parametrize("role", ROLES)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=OPERATIONS)
async def test_generated_operations_never_fail_on_the_server(
    world: World, role: str, document: str
) -> None:
    await _send(world, role, document, {})
    lifted, variables = as_variables(document)
    await _send(world, role, lifted, variables)
