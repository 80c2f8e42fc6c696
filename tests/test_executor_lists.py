"""Objects and lists of objects returned by fields graphql-core resolves (root fields
with arguments, async resolvers): the fast executor completes them through plans,
not through graphql-core's complete_list_value and complete_object_value per item,
unless graphql-core has something to say about the value (a null item, an exception,
an awaitable, another iterable), the type is abstract or checks ``is_type_of``, or
@stream/@defer is in play (here or under plain reads). Each document runs through both
executors: same data, errors (message, path, locations), order, and resolver calls in
the same order."""

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import strawberry
from graphql import ExperimentalIncrementalExecutionResults
from graphql.execution import Executor
from strawberry import Schema
from strawberry.schema.config import StrawberryConfig

from schema.fast_executor import FIELD_COUNTS, FastExecutor
from tests.support.executor_runs import executed

CALLS: list[str] = []


@strawberry.type
class Part:
    label: str | None

    @strawberry.field
    def sure(self) -> str:
        # A null label is a null for a non-null field: an error under the item.
        return self.label  # type: ignore[return-value]


@strawberry.type
class Item:
    name: str
    size: int
    part: Part | None

    @strawberry.field
    async def slow(self) -> str:
        CALLS.append(f"slow {self.name}")
        await asyncio.sleep(0)
        if self.name.startswith("bad"):
            raise ValueError(f"slow failed for {self.name}")
        return self.name.upper()

    @strawberry.field
    def quick(self) -> int:
        CALLS.append(f"quick {self.name}")
        if self.name.startswith("worse"):
            raise ValueError(f"quick failed for {self.name}")
        return self.size


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Tagged(Named):
    """Implements an interface: Strawberry gives it an ``is_type_of`` check."""

    @strawberry.field
    def quick(self) -> int:
        CALLS.append(f"tagged {self.name}")
        if self.name.startswith("worse"):
            raise ValueError(f"tagged failed for {self.name}")
        return len(self.name)


@strawberry.type
class Other:
    code: int


def item(name: str, *, part: str | None = "p") -> Item:
    return Item(name=name, size=len(name), part=Part(label=part))


def items(names: str) -> list[Any]:
    """Items by name; ``null`` is a null item and ``error`` an exception as an item;
    a part's label is null under a name starting with ``np``."""
    special: dict[str, Any] = {"null": None, "error": ValueError("an exception as an item")}
    return [
        special[name] if name in special else item(name, part=None if name[:2] == "np" else "p")
        for name in names.split()
    ]


def tagged(names: str) -> list[Tagged]:
    return [Tagged(name=name) for name in names.split()]


Thing = Annotated[Item | Other, strawberry.union("Thing")]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, names: str) -> list[Item]:
        return items(names)

    @strawberry.field
    async def later(self, names: str) -> list[Item] | None:
        await asyncio.sleep(0)
        return items(names)

    @strawberry.field
    def maybe_items(self, names: str) -> list[Item | None]:
        return items(names)

    @strawberry.field
    def tuple_items(self, names: str) -> list[Item] | None:
        return tuple(items(names))  # type: ignore[return-value]

    @strawberry.field
    def generated(self, names: str) -> list[Item] | None:
        def generate() -> Iterator[Any]:
            yield from items(names)

        return generate()  # type: ignore[return-value]

    @strawberry.field
    def rows(self, names: str) -> list[list[Item]] | None:
        return [items(names), items(names)]

    @strawberry.field
    def one(self, name: str, part: str | None = None) -> Item | None:
        return item(name, part=part)

    @strawberry.field
    def named(self, names: str) -> list[Named]:
        return tagged(names)  # type: ignore[return-value]

    @strawberry.field
    def tagged(self, names: str) -> list[Tagged]:
        return tagged(names)

    @strawberry.field
    def things(self, names: str) -> list[Thing]:
        return [*items(names), Other(code=7)]


STANDARD = Schema(query=Query)
FAST = Schema(query=Query, execution_context_class=FastExecutor)

ITEM = "name size quick slow part { label sure }"
NULL_ITEM = '{ later(names: "a null b") { name slow } }'
NESTED_NULLS = '{ later(names: "np1 a np2") { name part { sure } } }'
DOCUMENTS = [
    f'{{ items(names: "a b c") {{ {ITEM} }} }}',
    '{ items(names: "") { name } later(names: "") { name } }',
    f'{{ later(names: "a bad1 c bad2") {{ {ITEM} }} }}',
    '{ later(names: "a worse b") { name quick } }',
    '{ maybeItems(names: "a worse b bad") { name quick slow } }',
    # A null item of a non-null item type, an exception as an item: the list is nulled.
    NULL_ITEM,
    '{ later(names: "a error b") { name slow } }',
    '{ maybeItems(names: "a null error b") { name slow } }',
    '{ items(names: "a null") { name } }',
    # Other iterables and nested lists: graphql-core's path.
    '{ tupleItems(names: "a worse") { name quick } generated(names: "b bad") { slow } }',
    '{ rows(names: "a bad") { name slow } }',
    # One object; a non-null field's null under it bubbles to the nullable part.
    '{ one(name: "a", part: "x") { name slow part { sure } } b: one(name: "b") { part { sure } } }',
    NESTED_NULLS,
    # Abstract types, and an object type with is_type_of.
    '{ named(names: "a worse") { name ... on Tagged { quick } } }',
    '{ tagged(names: "worse a") { name quick } }',
    '{ things(names: "a worse") { __typename ... on Item { name quick } ... on Other { code } } }',
]


async def _run(schema: Schema, document: str) -> tuple[Any, list[Any], list[str]]:
    return await executed(schema, document, CALLS)


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_both_executors_agree(document: str) -> None:
    assert await _run(FAST, document) == await _run(STANDARD, document)


async def test_the_documents_reach_errors_and_bubbling() -> None:
    # Guards the comparison above against documents that quietly stopped failing.
    data, errors, _ = await _run(FAST, NULL_ITEM)
    assert data == {"later": None}
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field Query.later.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["later", 1],
        }
    ]
    data, errors, _ = await _run(FAST, NESTED_NULLS)
    assert data == {
        "later": [
            {"name": "np1", "part": None},
            {"name": "a", "part": {"sure": "p"}},
            {"name": "np2", "part": None},
        ]
    }
    assert [error["path"] for error in errors] == [
        ["later", 0, "part", "sure"],
        ["later", 2, "part", "sure"],
    ]


@pytest.fixture
def completed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lists and objects graphql-core's complete_list_value and
    complete_object_value complete, by path."""
    calls: list[str] = []

    def spy_on(kind: str, name: str) -> None:
        original = getattr(Executor, name)

        def spy(self: Executor[Any], *args: Any) -> Any:
            calls.append(f"{kind} " + ".".join(map(str, args[3].as_list())))
            return original(self, *args)

        monkeypatch.setattr(Executor, name, spy)

    spy_on("list", "complete_list_value")
    spy_on("object", "complete_object_value")
    return calls


async def test_a_root_list_of_objects_is_completed_through_the_plan(
    completed: list[str],
) -> None:
    document = '{ items(names: "a b c") { name size part { label } } }'
    before = dataclasses.replace(FIELD_COUNTS)
    fast = await FAST.execute(document)
    # name, size, part and part's label read for each of the 3 items; items resolved.
    assert (FIELD_COUNTS.plain - before.plain, FIELD_COUNTS.resolved - before.resolved) == (12, 1)
    assert completed == []
    standard = await STANDARD.execute(document)
    objects = [f"object items.{n}{part}" for n in range(3) for part in ("", ".part")]
    assert completed == ["list items", *objects]
    assert fast.data == standard.data
    assert fast.errors is standard.errors is None


async def test_a_list_holding_a_null_goes_the_standard_way_except_its_objects(
    completed: list[str],
) -> None:
    # graphql-core walks the list; each object it reaches is then run by its plan.
    await FAST.execute('{ maybeItems(names: "a null b") { name } }')
    assert completed == ["list maybeItems"]


async def test_abstract_lists_and_is_type_of_are_left_to_graphql_core(
    completed: list[str],
) -> None:
    document = (
        '{ named(names: "a b") { name } things(names: "c") { __typename } '
        'tagged(names: "d") { name } }'
    )
    await FAST.execute(document)
    assert completed == [
        "list named", "object named.0", "object named.1",
        "list things", "object things.0", "object things.1",
        "list tagged", "object tagged.0",
    ]  # fmt: skip


INCREMENTAL = StrawberryConfig(enable_experimental_incremental_execution=True)
INCREMENTAL_STANDARD = Schema(query=Query, config=INCREMENTAL)
INCREMENTAL_FAST = Schema(query=Query, config=INCREMENTAL, execution_context_class=FastExecutor)
INCREMENTAL_DOCUMENTS = [
    '{ items(names: "a bad c") @stream(initialCount: 1) { name slow } }',
    '{ later(names: "a b") { name ... @defer { slow part { sure } } } }',
    '{ one(name: "a") { name ... @defer(label: "later") { slow } } }',
    # The item's fields split between the first payload and a deferred one.
    '{ later(names: "a b") { name } ... @defer { later(names: "a b") { name slow } } }',
    # A fragment deferred under a plain read (part), and split under it.
    '{ items(names: "a b") { part { label ... @defer { sure } } } }',
    '{ later(names: "a") { part { label } } ... @defer { later(names: "a") { part { sure } } } }',
    '{ one(name: "a", part: "x") { part { label } ... @defer { part { sure } } } }',
]


async def _incremental(schema: Schema, document: str) -> list[Any]:
    CALLS.clear()
    result: Any = await schema.execute(document)
    assert isinstance(result, ExperimentalIncrementalExecutionResults)
    payloads: list[Any] = [result.initial_result.formatted]
    payloads += [payload.formatted async for payload in result.subsequent_results]
    return [payloads, list(CALLS)]


@pytest.mark.parametrize("document", INCREMENTAL_DOCUMENTS)
async def test_stream_and_defer_are_left_to_graphql_core(document: str) -> None:
    fast = await _incremental(INCREMENTAL_FAST, document)
    assert len(fast[0]) >= 2  # delivered in parts
    assert fast == await _incremental(INCREMENTAL_STANDARD, document)
