"""Depth and aliases of each operation, each fragment visited once."""

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from schema.limits.fragments import fragment_definitions, in_dependency_order
from schema.limits.too_complex import too_complex

MAX_DEPTH = 10
MAX_ALIASES = 200


@dataclass(frozen=True, slots=True)
class Shape:
    # Fields with a selection set on the longest path: `{ clinics { id } }` is 1.
    depth: int
    # Aliased fields, each spread of a fragment counting its aliases again.
    aliases: int


def shape_errors(document: DocumentNode) -> list[GraphQLError]:
    """Refusals of operations that nest too deeply or alias too much; linear time."""
    fragments = fragment_definitions(document)
    shapes: dict[str, Shape] = {}
    for name in in_dependency_order(fragments):
        shapes[name] = _shape(fragments[name].selection_set, shapes)
    errors = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        shape = _shape(operation.selection_set, shapes)
        name = operation.name.value if operation.name else "anonymous"
        if shape.depth > MAX_DEPTH:
            errors.append(
                too_complex(
                    f"The operation '{name}' nests {shape.depth} levels deep;"
                    f" at most {MAX_DEPTH} are allowed.",
                    operation,
                )
            )
        if shape.aliases > MAX_ALIASES:
            errors.append(
                too_complex(
                    f"The operation '{name}' has more than {MAX_ALIASES} aliases.", operation
                )
            )
    return errors


def _shape(selection_set: SelectionSetNode, fragments: dict[str, Shape]) -> Shape:
    depth = aliases = 0
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            # Unknown, or closing a cycle: validation reports it.
            inner = fragments.get(selection.name.value, Shape(0, 0))
        elif isinstance(selection, InlineFragmentNode):
            inner = _shape(selection.selection_set, fragments)
        elif isinstance(selection, FieldNode):
            aliases += selection.alias is not None
            # Introspection is answered from memory: neither deep nor costly.
            if not selection.selection_set or selection.name.value.startswith("__"):
                continue
            nested = _shape(selection.selection_set, fragments)
            inner = Shape(nested.depth + 1, nested.aliases)
        depth = max(depth, inner.depth)
        aliases += inner.aliases
    # Saturated: fragments spread within fragments multiply aliases without bound.
    return Shape(depth, min(aliases, MAX_ALIASES + 1))
