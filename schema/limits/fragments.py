"""Fragments in an order where each comes after every fragment it spreads.

The checks of the door fold each fragment once, in this order, and look up the
fragments it spreads in what they already computed: time linear in the document,
however often a fragment is spread. A spread that closes a cycle (which
validation reports) or names no fragment contributes nothing.
"""

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)


def fragment_definitions(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def spread_names(selection_set: SelectionSetNode) -> Iterator[str]:
    """Every fragment spread anywhere under ``selection_set``, without following spreads."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)


def in_dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Post-order of the spread graph, without recursion (a chain may be thousands long)."""
    spreads = {
        name: set(spread_names(fragment.selection_set)) for name, fragment in fragments.items()
    }
    order: list[str] = []
    seen: set[str] = set()
    for root in fragments:
        if root in seen:
            continue
        seen.add(root)
        path = [(root, iter(spreads[root]))]
        while path:
            name, children = path[-1]
            for child in children:
                if child in fragments and child not in seen:
                    seen.add(child)
                    path.append((child, iter(spreads[child])))
                    break
            else:
                path.pop()
                order.append(name)
    return order
