"""The fast executor (schema/fast_executor/) against graphql-core's own, on the same
database, Redis and storage, for the same callers: every query written in the test suite
and generated ones give the same ``data``, ``errors`` (message, path, locations,
extensions, order), response extensions and audit rows.

Each document runs in process through both schemas with one set of services (so that
caches, links reused per caller included, are shared), one after the other; the audit
rows of the first run are read and removed before the second, so both see one state.
Mutations are compared in tests/test_executor_differential_mutations.py.
"""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.fast_executor import FIELD_COUNTS
from services.settings import Settings
from tests.support.differential import RECORDS, ROLES, World, agree, differential_world, run_once
from tests.support.documents import Operation, suite_operations, variable_values
from tests.test_fuzz import KNOWN_IDS, QUERIES, SCALARS, SCHEMA, as_variables


@pytest.fixture(scope="module")
async def world(settings: Settings, engine: AsyncEngine, redis: Redis) -> AsyncIterator[World]:
    async with differential_world(settings, engine, redis) as built:
        KNOWN_IDS[:] = [*built.ids.values(), *built.more_ids]
        yield built
    KNOWN_IDS.clear()


SUITE_QUERIES = [operation for operation in suite_operations() if operation.kind.value == "query"]


def test_the_suite_has_queries_to_compare() -> None:
    # Guards the collection itself: a change that found none would compare nothing.
    assert len(SUITE_QUERIES) >= 50


@pytest.mark.parametrize("operation", SUITE_QUERIES, ids=lambda operation: operation.where)
async def test_every_query_of_the_suite_gives_the_same_answer(
    world: World, operation: Operation
) -> None:
    variables = variable_values(operation, world.ids, world.scalars)
    for role in ROLES:
        await agree(world, role, operation.document, variables, operation.name)


RECORDS_QUERY = (
    "query P($id: ID!) { patient(id: $id) { id name records(first: 50) { edges { node "
    "{ id title recordType uploadedAt doctor { name } documentUrl } } } } }"
)


def edge_ids(body: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in body["data"]["patient"]["records"]["edges"]]


async def test_the_records_query_reads_its_plain_fields_without_resolvers(world: World) -> None:
    """The bench's query (bench/records): per record, node, id, title, recordType,
    uploadedAt, documentUrl (issued for the page), doctor and the doctor's name are read;
    the patient's id and name and the edges list are read; patient and records (they
    take arguments) go through graphql-core's execute_field. graphql-core's own executor
    counts nothing."""
    variables = {"id": world.ids["patient"]}
    before = dataclasses.replace(FIELD_COUNTS)
    body = await run_once(world, world.fast, "doctor", RECORDS_QUERY, variables)
    assert body["errors"] == []
    assert len(body["data"]["patient"]["records"]["edges"]) == RECORDS
    with_doctor = RECORDS - RECORDS // 3  # every third record has no doctor
    assert FIELD_COUNTS.plain - before.plain == 3 + 7 * RECORDS + with_doctor
    assert FIELD_COUNTS.direct - before.direct == 0
    assert FIELD_COUNTS.resolved - before.resolved == 2
    # Asked again: the same fields, none of its five selection sets planned again.
    before = dataclasses.replace(FIELD_COUNTS)
    again = await run_once(world, world.fast, "doctor", RECORDS_QUERY, variables)
    assert (again["errors"], edge_ids(again)) == ([], edge_ids(body))
    assert (FIELD_COUNTS.plain - before.plain, FIELD_COUNTS.plans - before.plans) == (
        3 + 7 * RECORDS + with_doctor,
        0,
    )
    # The page (its edges, their records and doctors) filled by its compiled functions,
    # made at the document's first run.
    assert FIELD_COUNTS.compiled_objects - before.compiled_objects == 1 + 2 * RECORDS + with_doctor
    assert FIELD_COUNTS.compiled_plans == before.compiled_plans
    before = dataclasses.replace(FIELD_COUNTS)
    await run_once(world, world.standard, "doctor", RECORDS_QUERY, variables)
    assert before == FIELD_COUNTS


@pytest.mark.parametrize("role", ROLES)
@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_generated_queries_give_the_same_answer(
    world: World, role: str, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(QUERIES))
    document = data.draw(queries(SCHEMA, fields=[field], custom_scalars=SCALARS))
    await agree(world, role, document, {})
    lifted, variables = as_variables(document)
    await agree(world, role, lifted, variables)
