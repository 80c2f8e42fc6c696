"""Compiled plans (schema/fast_executor/compiled.py): a document whose fields are plain
reads is compiled once, at its first run, and its functions fill later requests' objects;
wherever a value is not one the fast path takes as it is, the object runs the interpreted
way and the answer is graphql-core's, to the byte (keys in the same order)."""

import dataclasses
import enum
import json
from datetime import UTC, datetime
from typing import Any

import graphql
import pytest
import strawberry

from schema.fast_executor import FIELD_COUNTS, FastExecutor
from schema.fast_executor.compiled import MAX_COMPILED_FIELDS


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    ANGRY = "angry"


@strawberry.type
class Tag:
    label: str


@strawberry.type
class Card:
    id: strawberry.ID
    title: str
    note: str | None
    count: int
    done: bool
    mood: Mood
    at: datetime
    words: list[str]
    tag: Tag | None
    tags: list[Tag]


class ReadThroughProperty:
    """Not the Strawberry class: its label is a property, which a plain read does not
    take from ``__dict__``."""

    @property
    def label(self) -> str:
        return "from a property"


CARDS: list[Any] = []


@strawberry.type
class Query:
    @strawberry.field
    async def cards(self) -> list[Card]:
        return CARDS


SCHEMA = strawberry.Schema(query=Query)._schema
EVERY_FIELD = (
    "{ cards { id title note count done mood at words tag { label } tags { label } __typename } }"
)


def card(number: int, **change: Any) -> Card:
    values: dict[str, Any] = {
        "id": f"c{number}", "title": f"Card {number}", "note": None, "count": number,
        "done": number % 2 == 0, "mood": Mood.CALM, "at": datetime(2026, 1, number, tzinfo=UTC),
        "words": ["a", "b"], "tag": Tag(label="t"), "tags": [Tag(label="x"), Tag(label="y")],
    }  # fmt: skip
    values.update(change)
    return Card(**values)


async def _answer(document: graphql.DocumentNode, executor: type[Any] | None) -> str:
    result = await graphql.execute(SCHEMA, document, executor_class=executor)  # type: ignore[misc]
    errors = [error.formatted for error in result.errors or ()]
    return json.dumps({"data": result.data, "errors": errors})


async def _both(text: str) -> tuple[str, str, dict[str, int]]:
    """The fast executor's answer at the document's second run (its first compiles it),
    graphql-core's, and what the second run counted."""
    document = graphql.parse(text)
    await _answer(document, FastExecutor)
    before = dataclasses.replace(FIELD_COUNTS)
    fast = await _answer(document, FastExecutor)
    counted = {
        name: getattr(FIELD_COUNTS, name) - getattr(before, name)
        for name in ("plain", "compiled_plans", "compiled_objects")
    }
    return fast, await _answer(document, None), counted


@pytest.fixture(autouse=True)
def _no_cards() -> None:
    CARDS.clear()


async def test_a_document_is_compiled_at_its_first_run_and_reused() -> None:
    CARDS[:] = [card(1), card(2, tag=None, tags=[])]
    document = graphql.parse(EVERY_FIELD)

    before = dataclasses.replace(FIELD_COUNTS)
    first = await _answer(document, FastExecutor)
    # The card, its tag and its tags: three functions, made once.
    assert FIELD_COUNTS.compiled_plans - before.compiled_plans == 3
    before = dataclasses.replace(FIELD_COUNTS)
    second = await _answer(document, FastExecutor)

    assert first == second == await _answer(document, None)
    assert json.loads(second)["data"]["cards"][1] == {
        "id": "c2", "title": "Card 2", "note": None, "count": 2, "done": True, "mood": "CALM",
        "at": "2026-01-02T00:00:00+00:00", "words": ["a", "b"], "tag": None, "tags": [],
        "__typename": "Card",
    }  # fmt: skip
    assert FIELD_COUNTS.compiled_plans - before.compiled_plans == 0
    # Two cards, the first's tag and two tags; 11 fields a card, a field a tag.
    assert FIELD_COUNTS.compiled_objects - before.compiled_objects == 5
    assert FIELD_COUNTS.plain - before.plain == 22 + 3
    assert FIELD_COUNTS.resolved - before.resolved == 0


class _Unreadable:
    def __init__(self, card: Card) -> None:
        self.__dict__.update(card.__dict__)

    @property
    def note(self) -> str:
        return "a note through a property"


def _without_note() -> Card:
    changed = card(2)
    del changed.__dict__["note"]
    return changed


# The second card's problem, and how many of its objects (itself, its tag, its two tags)
# compiled functions still fill: all four where the scalar takes the value as graphql-core
# does; none where the error nulls the card before its objects are reached; else those
# that the interpreted run of the card hands to them.
BAD_CARDS: dict[str, tuple[Any, int]] = {
    "null for a non-null leaf": (card(2, title=None), 0),
    "a number for a String": (card(2, title=5), 4),
    "a number for a Boolean": (card(2, done=1), 4),
    "an enum's value for the enum": (card(2, mood="calm"), 4),
    "a string for an Int": (card(2, count="many"), 0),
    "an Int out of range": (card(2, count=2**40), 0),
    "an exception as a value": (card(2, at=ValueError("no time")), 0),
    "a null in a list of leaves": (card(2, words=["a", None]), 0),
    "a null in a list of objects": (card(2, tags=[Tag(label="x"), None]), 2),
    "a tuple for a list": (card(2, tags=(Tag(label="x"),)), 2),
    "an object read through a property": (card(2, tag=ReadThroughProperty()), 2),
    "a card read through a property": (_Unreadable(card(2)), 3),
    "an attribute not there": (_without_note(), 3),
}


@pytest.mark.parametrize("bad", BAD_CARDS)
async def test_a_value_the_fast_path_does_not_take_gets_graphql_cores_answer(bad: str) -> None:
    value, compiled = BAD_CARDS[bad]
    CARDS[:] = [card(1), value]

    fast, standard, counted = await _both(EVERY_FIELD)

    assert fast == standard
    # The good card with its tag and two tags, and what is taken of the second.
    assert counted["compiled_objects"] == 4 + compiled


async def test_a_document_whose_fields_depend_on_variables_is_not_compiled() -> None:
    CARDS[:] = [card(1)]
    text = "query Q($x: Boolean = true) { cards { id title @include(if: $x) } }"

    fast, standard, counted = await _both(text)

    assert fast == standard
    assert json.loads(fast)["data"] == {"cards": [{"id": "c1", "title": "Card 1"}]}
    assert (counted["compiled_plans"], counted["compiled_objects"]) == (0, 0)
    assert counted["plain"] == 2


async def test_a_plan_larger_than_the_limit_is_interpreted() -> None:
    CARDS[:] = [card(1)]
    aliases = " ".join(f"t{n}: title" for n in range(MAX_COMPILED_FIELDS + 1))

    fast, standard, counted = await _both(f"{{ cards {{ {aliases} }} }}")

    assert fast == standard
    assert (counted["compiled_plans"], counted["compiled_objects"]) == (0, 0)
    assert counted["plain"] == MAX_COMPILED_FIELDS + 1


async def test_response_names_are_values_in_the_compiled_code() -> None:
    CARDS[:] = [card(1)]
    text = "{ cards { __d: id _0: title kind: __typename x: tag { y: label } title } }"

    fast, standard, counted = await _both(text)

    assert fast == standard
    assert json.loads(fast)["data"] == {
        "cards": [{"__d": "c1", "_0": "Card 1", "kind": "Card", "x": {"y": "t"}, "title": "Card 1"}]
    }
    assert counted["compiled_objects"] == 2
