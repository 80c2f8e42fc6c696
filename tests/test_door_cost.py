"""The cost of an operation, from the document alone: exact numbers, and refusals that run nothing."""

from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_nullable_type, is_list_type
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from schema import build_schema
from schema.limits.list_sizes import LIST_SIZES
from tests.support.statements import counting_statements

LIMIT = 50_000
DAY = '"2030-01-07"'
SLOT = "startsAt endsAt available clinic { id }"  # 5 per slot


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("query", "variables", "requested"),
    [
        ("{ __typename }", {}, 1),
        # A list without `first` counts its documented maximum: 100 clinics.
        ("{ clinics { id name } }", {}, 1 + 100 * 2),
        ("{ ... on Query { clinics { id } } }", {}, 1 + 100 * 1),
        # A connection multiplies what is under it by `first`, 20 when omitted;
        # its edges are already counted by it.
        ("{ doctors { edges { node { id } } } }", {}, 1 + 20 * (1 + (1 + 1))),
        (
            "query D($n: Int) { doctors(first: $n) { edges { cursor node { name clinics { name } } }"
            " pageInfo { hasNextPage } } }",
            {"n": 5},
            1 + 5 * ((1 + 1 + (1 + 1 + (1 + 20 * 1))) + (1 + 1)),
        ),
        (
            "query D($n: Int = 3) { doctors(first: $n) { edges { cursor node { name clinics { name } } }"
            " pageInfo { hasNextPage } } }",
            {},
            1 + 3 * ((1 + 1 + (1 + 1 + (1 + 20 * 1))) + (1 + 1)),
        ),
        # Nested connections and lists: 10 appointments with up to 20 notifications each.
        (
            "query P($id: ID!) { patient(id: $id) { name"
            " appointments(first: 10) { edges { node { id doctor { name } notifications { kind } } } }"
            " records { edges { node { title } } } } }",
            {"id": "x"},
            1
            + (1 + (1 + 10 * (1 + (1 + (1 + (1 + 1) + (1 + 20 * 1))))) + (1 + 20 * (1 + (1 + 1)))),
        ),
        # A day of slots is at most 288 (5-minute slots).
        (
            f'{{ availableSlots(doctorId: "x", date: {DAY}) {{ startsAt clinic {{ name }} }} }}',
            {},
            1 + 288 * (1 + (1 + 1)),
        ),
        # Fragments count each time they are spread; aliases are fields like any other.
        (
            "{ a: clinics { ...C } b: clinics { ...C } ...Q } fragment C on Clinic { id name }"
            " fragment Q on Query { doctors(first: 2) { edges { node { ...D } } } }"
            f" fragment D on Doctor {{ name availableSlots(date: {DAY}) {{ startsAt }} }}",
            {},
            (1 + 100 * 2) * 2 + (1 + 2 * (1 + (1 + (1 + (1 + 288 * 1))))),
        ),
        # Introspection is answered from memory.
        ("{ __schema { types { name fields { name } } } }", {}, 1),
        # Twenty doctors with a day of slots each: the largest page the limit allows.
        (
            f"{{ doctors(first: 20) {{ edges {{ node {{ availableSlots(date: {DAY}) {{ {SLOT} }} }} }} }} }}",
            {},
            28_861,
        ),
    ],
)
async def test_every_response_tells_its_cost(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], requested: int
) -> None:
    body = await _post(client, query, variables)

    assert body["extensions"] == {"cost": {"requested": requested, "limit": LIMIT}}
    assert all(e["extensions"]["code"] != "QUERY_TOO_COMPLEX" for e in body.get("errors", []))


async def test_a_document_that_never_validated_asked_for_nothing(
    client: httpx.AsyncClient,
) -> None:
    syntax = await _post(client, "{ clinics { id }")
    unknown = await _post(client, "{ clinics { nope } }")

    for body in (syntax, unknown):
        assert body["extensions"] == {"cost": {"requested": 0, "limit": LIMIT}}


# The document of the issue: 199 aliases, each 100 doctors with a day of slots.
THE_199_ALIASES = (
    "{ "
    + " ".join(
        f"a{n}: doctors(first: 100) {{ edges {{ node {{ availableSlots(date: {DAY}) {{ {SLOT} }} }} }} }}"
        for n in range(199)
    )
    + " }"
)
# 199 aliases of the default page (20 doctors) in fewer tokens: each alone is
# allowed; together the cost refuses them, not the token limit.
THE_199_ALIASES_COMPACT = (
    "{ "
    + " ".join(f"a{n}: doctors {{ ...E }}" for n in range(199))
    + f" }} fragment E on DoctorConnection {{ edges {{ node {{ availableSlots(date: {DAY})"
    f" {{ {SLOT} }} }} }} }}"
)
DOCTOR_WITH_SLOTS = 1 + (1 + (1 + 288 * 5))  # an edge, its node, a day of slots
ONE_DOCTOR_PAGE = 1 + 100 * DOCTOR_WITH_SLOTS
DEFAULT_DOCTOR_PAGE = 1 + 20 * DOCTOR_WITH_SLOTS


async def _refused(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    with counting_statements() as statements:
        body = await _post(client, query)
    assert statements.count == 0, statements.statements
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
    return body


async def test_the_199_alias_document_is_refused_before_anything_runs(
    client: httpx.AsyncClient,
) -> None:
    literal = await _refused(client, THE_199_ALIASES)
    compact = await _refused(client, THE_199_ALIASES_COMPACT)
    one_page = await _refused(
        client,
        f"{{ doctors(first: 100) {{ edges {{ node {{ availableSlots(date: {DAY}) {{ {SLOT} }} }} }} }} }}",
    )

    assert literal["errors"][0]["message"] == (
        "The document has more than 1500 tokens; at most 1500 are allowed."
    )
    assert compact["errors"][0]["message"] == (
        f"The operation costs {199 * DEFAULT_DOCTOR_PAGE}; at most {LIMIT} is allowed."
        " Ask for fewer items (`first`) or fewer fields."
    )
    assert compact["extensions"] == {
        "cost": {"requested": 199 * DEFAULT_DOCTOR_PAGE, "limit": LIMIT}
    }
    assert one_page["extensions"] == {"cost": {"requested": ONE_DOCTOR_PAGE, "limit": LIMIT}}


async def test_depth_and_aliases_over_the_limits_are_refused(
    client: httpx.AsyncClient,
) -> None:
    eleven_deep = (
        '{ appointment(id: "x") { patient { appointments { edges { node { patient {'
        " appointments { edges { node { doctor { clinics { id } } } } } } } } } } } }"
    )
    deep = await _refused(client, eleven_deep)
    aliased = await _refused(
        client, "{ " + " ".join(f"a{n}: __typename" for n in range(201)) + " }"
    )

    assert deep["errors"][0]["message"] == (
        "The operation 'anonymous' nests 11 levels deep; at most 10 are allowed."
    )
    assert aliased["errors"][0]["message"] == "The operation 'anonymous' has more than 200 aliases."


async def test_a_refused_mutation_changes_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # A sign-up that asks for 100 appointments with their doctors' days of slots.
    registration = (
        'mutation { registerPatient(input: {email: "p@example.test", password: "long enough",'
        ' name: "P"}) { user { patient { appointments(first: 100) { edges { node { doctor {'
        f" availableSlots(date: {DAY}) {{ {SLOT} }} }} }} }} }} }} }} }} }}"
    )

    body = await _refused(client, registration)

    assert body["extensions"] == {"cost": {"requested": 144_404, "limit": LIMIT}}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


def test_every_list_field_has_a_documented_length() -> None:
    schema = build_schema()._schema
    lists = {
        (type_name, field_name)
        for type_name, named in schema.type_map.items()
        if isinstance(named, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in named.fields.items()
        if is_list_type(get_nullable_type(field.type))
        # A connection's edges are as many as its `first`.
        and not (type_name.endswith("Connection") and field_name == "edges")
    }

    assert lists == set(LIST_SIZES), "add the new list to schema/limits/list_sizes.py and README"
