"""schema.pages.selects: whether a field's selection asks for a name, through fragments,
walking each fragment once."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.pages import selects

LEVELS = 10  # without walking each fragment once: 2,047 look-ups, not 11


class CountedFragments(dict[str, FragmentDefinitionNode]):
    """The document's fragments, counting each look-up."""

    def __init__(self, fragments: Iterator[FragmentDefinitionNode]) -> None:
        super().__init__((fragment.name.value, fragment) for fragment in fragments)
        self.looked_up: list[str] = []

    def __getitem__(self, name: str) -> FragmentDefinitionNode:
        self.looked_up.append(name)
        return super().__getitem__(name)


def _info(document: str) -> tuple[Any, CountedFragments]:
    """A resolve info for the operation's first root field, as ``selects`` reads it."""
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    field = operation.selection_set.selections[0]
    assert isinstance(field, FieldNode)
    fragments = CountedFragments(
        d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    )
    return SimpleNamespace(
        _raw_info=SimpleNamespace(field_nodes=[field], fragments=fragments)
    ), fragments


def _doubling_fragments(last: str) -> str:
    """F0 spreads F1 twice, F1 spreads F2 twice, ...: 2**LEVELS paths to the last one."""
    chain = " ".join(
        f"fragment F{n} on Record {{ id ...F{n + 1} ... on Record {{ ...F{n + 1} }} }}"
        for n in range(LEVELS)
    )
    return f"{chain} fragment F{LEVELS} on Record {{ {last} }}"


def test_a_name_below_every_fragment_is_found_walking_each_fragment_once() -> None:
    info, fragments = _info(
        "{ records { edges { node { ...F0 } } } } " + _doubling_fragments("documentUrl")
    )

    assert selects(info, "documentUrl") is True
    assert fragments.looked_up == [f"F{n}" for n in range(LEVELS + 1)]


def test_a_name_nowhere_is_not_found_walking_each_fragment_once() -> None:
    info, fragments = _info(
        "{ records { edges { node { ...F0 } } } } " + _doubling_fragments("title")
    )

    assert selects(info, "documentUrl") is False
    assert fragments.looked_up == [f"F{n}" for n in range(LEVELS + 1)]


def test_a_name_in_an_inline_fragment_or_a_field_below_is_found() -> None:
    inline, _ = _info("{ records { edges { node { ... on Record { documentUrl } } } } }")
    plain, _ = _info("{ records { edges { node { id } } } }")

    assert selects(inline, "documentUrl") is True
    assert selects(plain, "documentUrl") is False
