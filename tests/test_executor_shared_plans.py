"""Plans kept from one request to the next (schema/fast_executor/shared.py): a document is
planned once unless a directive may change its fields, and answers never follow an
earlier request's variables."""

from typing import Any

import pytest
from strawberry import Schema

from schema.fast_executor import FIELD_COUNTS, FastExecutor
from schema.limits.parsing import ParseWithTokenLimit
from tests.test_executor_edge_cases import STANDARD, Query

# As the product parses: the same text is the same document object.
CACHED = Schema(query=Query, execution_context_class=FastExecutor, extensions=[ParseWithTokenLimit])

FIXED = "query Fixed { branch(index: 0) { label leaves { name size } first { name } } }"
CONDITIONAL = (
    "query Conditional($with: Boolean!) { branch(index: 0) { label "
    "leaves @include(if: $with) { name } first { ...F } } } "
    "fragment F on Leaf { name size @skip(if: $with) }"
)


async def _answer(
    schema: Schema, document: str, variables: dict[str, Any] | None = None
) -> tuple[Any, Any, int]:
    """The data, the errors and the plans the execution made."""
    before = FIELD_COUNTS.plans
    result = await schema.execute(document, variable_values=variables)
    errors = [error.formatted for error in result.errors or ()]
    return result.data, errors, FIELD_COUNTS.plans - before


async def test_a_document_without_directives_is_planned_once() -> None:
    answers = [await _answer(CACHED, FIXED) for _ in range(3)]
    expected = await _answer(STANDARD, FIXED)

    # Query, Branch, its leaves and its first leaf: four selection sets, then none.
    assert [plans for _, _, plans in answers] == [4, 0, 0]
    assert [(data, errors) for data, errors, _ in answers] == [expected[:2]] * 3
    assert expected[0]["branch"]["label"] == "good"


@pytest.mark.parametrize("order", [(True, False, True), (False, True, False)])
async def test_variables_that_change_the_fields_are_followed_every_request(
    order: tuple[bool, ...],
) -> None:
    answers = [await _answer(CACHED, CONDITIONAL, {"with": flag}) for flag in order]
    expected = [await _answer(STANDARD, CONDITIONAL, {"with": flag}) for flag in order]

    assert [(data, errors) for data, errors, _ in answers] == [(d, e) for d, e, _ in expected]
    # Planned in every request: the fields are not the same in each.
    assert all(plans > 0 for _, _, plans in answers)
    with_leaves = answers[order.index(True)][0]["branch"]
    without_leaves = answers[order.index(False)][0]["branch"]
    assert ("leaves" in with_leaves, "size" in with_leaves["first"]) == (True, False)
    assert ("leaves" in without_leaves, "size" in without_leaves["first"]) == (False, True)
