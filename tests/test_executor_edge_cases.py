"""The fast executor where the plain path must give way: a null for a non-null field, a
value its scalar refuses, a list holding a null, an attribute that is not there, an
exception as a value, a property, errors from resolvers beside plain fields, nested null
bubbling. Each document runs on a small schema through both executors: same data, same
errors (message, path, locations), same order, and the resolvers called as often.
Then how the executor is chosen (MEDAPPT_EXECUTOR) and that prod hides suggestions
with either."""

import asyncio
import dataclasses
import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from strawberry import Schema
from strawberry.types import ExecutionResult

from schema import build_schema
from schema.fast_executor import FIELD_COUNTS, FastExecutor
from schema.no_suggestions import ExecutorWithoutSuggestions
from services.settings import ConfigError, ExecutorKind, load_settings
from tests.support.executor_runs import executed

CALLS: list[str] = []


@strawberry.enum
class Kind(enum.Enum):
    BIG = "big"
    SMALL = "small"


@strawberry.type
class Leaf:
    name: str
    size: int
    maybe: str | None
    tags: list[str]
    loose_tags: list[str | None]
    kind: Kind
    kinds: list[Kind]

    @strawberry.field
    async def slow(self) -> str:
        CALLS.append(f"slow {self.name}")
        await asyncio.sleep(0)
        if self.name.startswith("bad"):
            raise ValueError(f"slow failed for {self.name}")
        return self.name.upper()

    @strawberry.field
    def shout(self, info: strawberry.Info) -> str | None:
        CALLS.append(f"shout {self.name} at {info.path.as_list()}")
        return None if self.name.startswith("quiet") else f"{self.name}!"

    @strawberry.field
    def loud(self, info: strawberry.Info) -> str:
        return f"{info.field_name} {self.name}" if self.size else None  # type: ignore[return-value]

    @strawberry.field
    def parent_name(self, root: "Leaf") -> str:
        return root.name

    @strawberry.field
    def quick(self) -> int:
        CALLS.append(f"quick {self.name}")
        if self.name.startswith("worse"):
            raise ValueError(f"quick failed for {self.name}")
        return self.size


@strawberry.type
class Branch:
    label: str
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    first: Leaf
    other: Leaf | None


@dataclass
class Nameless:
    """Not the Strawberry class: a plain read finds its attribute through a property."""

    label: str = "nameless"
    leaves: list[Any] = dataclasses.field(default_factory=list)
    maybe_leaves: None = None
    other: None = None

    @property
    def first(self) -> Leaf:
        CALLS.append("property first")
        return leaf("from property")


def leaf(name: str, **change: Any) -> Leaf:
    values: dict[str, Any] = {"name": name, "size": len(name or ""), "maybe": None, "tags": ["a"],
                              "loose_tags": ["x", None], "kind": Kind.BIG,
                              "kinds": [Kind.SMALL, Kind.BIG]}  # fmt: skip
    values.update(change)
    return Leaf(**values)


def branches() -> list[Any]:
    good = Branch(label="good", leaves=[leaf("one"), leaf("two")], maybe_leaves=[leaf("m"), None],
                  first=leaf("f"), other=None)  # fmt: skip
    null_name = Branch(label="null name", leaves=[leaf("ok"), leaf(None)],  # type: ignore[arg-type]
                       maybe_leaves=None, first=leaf("f2"), other=leaf("o"))  # fmt: skip
    bad_scalar = Branch(label="bad scalar", leaves=[leaf("x", size="many"), leaf("k", kind="BIG"), leaf("l", kind="huge")], maybe_leaves=[leaf("bad1")],
                        first=leaf("bad first"), other=leaf("worse other"))  # fmt: skip
    bad_list = Branch(label="bad list", leaves=[leaf("y", tags=["a", None]), leaf("v", kinds=[Kind.BIG, "nope"])], maybe_leaves=None,
                      first=leaf("g", maybe=ValueError("an exception as a value")), other=None)  # fmt: skip
    null_item = Branch(label="null item", leaves=[leaf("z"), None], maybe_leaves=None,  # type: ignore[list-item]
                       first=leaf("h"), other=None)  # fmt: skip
    missing = Branch(label="missing", leaves=[], maybe_leaves=None, first=leaf("i"), other=None)
    del missing.__dict__["other"]
    wrong_type = Branch(label="wrong", leaves=[leaf("w", tags="not a list")], maybe_leaves=None,
                        first=leaf("j"), other=None)  # fmt: skip
    return [good, null_name, bad_scalar, bad_list, null_item, missing, wrong_type, Nameless()]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self) -> list[Branch]:
        return branches()

    @strawberry.field
    def maybe_branches(self) -> list[Branch | None]:
        return branches()

    @strawberry.field
    async def branch(self, index: int) -> Branch | None:
        await asyncio.sleep(0)
        return branches()[index]  # type: ignore[no-any-return]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def leaves(self) -> AsyncGenerator[Leaf, None]:
        for name in ("first", "bad second", "third"):
            yield leaf(name, size=None if name == "third" else 1)


STANDARD = Schema(query=Query, subscription=Subscription)
FAST = Schema(query=Query, subscription=Subscription, execution_context_class=FastExecutor)

LEAF = "name size maybe tags looseTags kind kinds slow quick shout loud parentName __typename"
DOCUMENTS = [
    f"{{ branches {{ label leaves {{ {LEAF} }} }} }}",
    f"{{ maybeBranches {{ label first {{ {LEAF} }} other {{ name slow }} }} }}",
    "{ maybeBranches { label leaves { name size } maybeLeaves { name quick slow } } }",
    "{ maybeBranches { label first { name maybe } leaves { tags } } }",
    "{ maybeBranches { label leaves { looseTags tags } } }",
    "{ maybeBranches { ... on Branch { label first { ...L } } other { ...L } } } "
    "fragment L on Leaf { name n2: name size @include(if: true) quick @skip(if: true) }",
    *(
        f"{{ branch(index: {n}) {{ label first {{ {LEAF} }} other {{ name }} leaves {{ name }} }} }}"
        for n in range(8)
    ),
    "{ a: branch(index: 0) { first { slow } } b: branch(index: 2) { first { slow } } "
    "c: branches { label } }",
    "{ maybeBranches { other { quick shout } leaves { quick loud } } }",
    "{ branches { leaves { shout loud } first { name } } branch(index: 0) { first { shout } } }",
]


async def _run(schema: Schema, document: str) -> tuple[Any, list[Any], list[str]]:
    return await executed(schema, document, CALLS)


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_both_executors_agree(document: str) -> None:
    assert await _run(FAST, document) == await _run(STANDARD, document)


async def test_the_plain_path_is_taken_for_good_objects() -> None:
    before = dataclasses.replace(FIELD_COUNTS)
    document = "{ branch(index: 0) { label leaves { name size tags quick parentName } } }"
    result = await FAST.execute(document)
    assert result.errors is None
    # label, leaves and 2 x (name, size, tags) read, 2 x quick called; branch (it takes
    # an argument) and parentName (it takes root) resolved by graphql-core; Query,
    # Branch and Leaf planned (Strawberry parses the text anew: a new document), none
    # compiled (a leaf's fields are not all plain reads).
    counts = dataclasses.astuple(FIELD_COUNTS)
    assert tuple(a - b for a, b in zip(counts, dataclasses.astuple(before), strict=True)) == (
        8,
        2,
        3,
        3,
        0,
        0,
    )


async def _events(schema: Schema) -> list[tuple[Any, list[Any]]]:
    stream = await schema.subscribe("subscription { leaves { name size slow quick } }")
    assert not isinstance(stream, ExecutionResult)
    return [
        (result.data, [error.formatted for error in result.errors or ()]) async for result in stream
    ]


async def test_subscription_events_agree() -> None:
    events = await _events(FAST)
    assert len(events) == 3
    assert events == await _events(STANDARD)


@pytest.mark.parametrize("executor", ["fast", "standard"])
def test_prod_hides_suggestions_with_either_executor(executor: ExecutorKind) -> None:
    executor_class = build_schema(suggestions=False, executor=executor).execution_context_class
    assert issubclass(executor_class, ExecutorWithoutSuggestions)
    assert issubclass(executor_class, FastExecutor) == (executor == "fast")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "fast"), ({"MEDAPPT_EXECUTOR": "standard"}, "standard"),
     ({"MEDAPPT_EXECUTOR": " fast "}, "fast")],
)  # fmt: skip
def test_the_executor_is_chosen_by_the_environment(environ: dict[str, str], expected: str) -> None:
    assert load_settings(environ).executor == expected


def test_an_unknown_executor_stops_start_up() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"MEDAPPT_EXECUTOR": "jit"})
    assert str(refused.value) == "MEDAPPT_EXECUTOR must be 'fast' or 'standard', not 'jit'"
