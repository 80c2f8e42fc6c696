"""Every mutation written in the test suite through both executors, for each caller,
where it can run twice on one state: the same ``data``, ``errors``, extensions and audit
rows (tests/support/differential.py runs them).

A mutation may change the world, and then the second executor would see another one.
So each runs first on the fast executor with the database fingerprinted before and
after (every table but the audit trail, row by row): when nothing changed (a refusal, a
bad value, a request that finds nothing to do), graphql-core's own executor runs it on
the same state and the answers must be equal; a mutation that changed something is left
at that (the suite's own tests check what it returns, on the fast executor).
"""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import Base
from services.settings import Settings
from tests.support.differential import ROLES, World, differential_world, run_once
from tests.support.documents import Operation, suite_operations, variable_values

# They end sessions (the callers' tokens would stop working for the rest of the module).
ENDING_SESSIONS = {"logout", "changePassword", "resetPassword", "deactivateUser"}
ALWAYS_WRITING = {"registerPatient", "requestPasswordReset"}


def _fields(operation: Operation) -> set[str]:
    return {
        selection.name.value
        for selection in operation.ast.selection_set.selections
        if hasattr(selection, "name")
    }


MUTATIONS = [
    operation
    for operation in suite_operations()
    if operation.kind.value == "mutation" and not _fields(operation) & ENDING_SESSIONS
]

_FINGERPRINT = " UNION ALL ".join(
    f"SELECT '{table.name}' AS name, md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) "
    f"AS rows FROM {table.name} x"
    for table in Base.metadata.sorted_tables
    if table.name != "audit_log"
)


@pytest.fixture(scope="module")
async def world(settings: Settings, engine: AsyncEngine, redis: Redis) -> AsyncIterator[World]:
    async with differential_world(settings, engine, redis) as built:
        yield built


async def _fingerprint(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(_FINGERPRINT))
        return {name: digest for name, digest in rows}


def test_the_suite_has_mutations_to_compare() -> None:
    assert len(MUTATIONS) >= 50


@pytest.mark.parametrize("operation", MUTATIONS, ids=lambda operation: operation.where)
async def test_every_mutation_of_the_suite_that_changes_nothing_gives_the_same_answer(
    world: World, operation: Operation
) -> None:
    variables = variable_values(operation, world.ids, world.scalars)
    compared = []
    for role in ROLES:
        before = await _fingerprint(world.engine)
        fast = await run_once(
            world, world.fast, role, operation.document, variables, operation.name
        )
        if await _fingerprint(world.engine) != before:
            continue
        standard = await run_once(
            world, world.standard, role, operation.document, variables, operation.name
        )
        assert fast == standard, (role, operation.document, variables)
        compared.append(role)
    # Some caller at least is refused, or finds nothing to do, except where every call
    # leaves a row: a document with a new patient's values written in, and a reset
    # request (the same statements whether or not the address exists).
    if not _fields(operation) <= ALWAYS_WRITING:
        assert compared, operation.where
