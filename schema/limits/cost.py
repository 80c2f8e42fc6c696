"""What an operation may cost, from the document and its variables alone, before it runs.

Every selected field costs 1 (``__typename`` too); a connection multiplies what
is under it by its `first` (its default when omitted), and any other list by
the longest it can be (``list_sizes``). Introspection costs 1: it is answered
from memory. Each fragment is costed once, however often it is spread.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
)

from domain.pagination import MAX_PAGE_SIZE
from schema.limits.fragments import fragment_definitions, in_dependency_order
from schema.limits.list_sizes import list_size

# The largest GraphQL Int: costs saturate here, so a fragment bomb's arithmetic
# stays on small numbers and `requested` stays an Int.
COST_CEILING = 2**31 - 1


@dataclass(frozen=True, slots=True)
class OperationCost:
    requested: int
    # Root fields by name, each spread of a fragment counting its fields again:
    # 200 aliased `registerPatient` fields are 200 sign-ups.
    root_fields: Counter[str]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, object],
) -> OperationCost:
    """The cost of ``operation`` in a validated ``document``; linear in its size."""
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    walk = _CostWalk(schema, {**defaults, **variables})
    fragments = fragment_definitions(document)
    for name in in_dependency_order(fragments):
        fragment = fragments[name]
        walk.fragments[name] = walk.selection_set(
            fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
        )
        walk.fragment_roots[name] = _root_fields(fragment.selection_set, walk.fragment_roots)
    root = schema.get_root_type(operation.operation)
    return OperationCost(
        requested=walk.selection_set(operation.selection_set, root),
        root_fields=_root_fields(operation.selection_set, walk.fragment_roots),
    )


class _CostWalk:
    def __init__(self, schema: GraphQLSchema, variables: Mapping[str, object]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments: dict[str, int] = {}
        self.fragment_roots: dict[str, Counter[str]] = {}

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> int:
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                # Unknown, or closing a cycle: validation reports it.
                cost += self.fragments.get(selection.name.value, 0)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                cost += self.selection_set(selection.selection_set, inner)
            elif isinstance(selection, FieldNode):
                cost += self.field(selection, parent)
        return min(cost, COST_CEILING)

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        name = node.name.value
        if node.selection_set is None or name.startswith("__"):
            return 1
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        definition = fields.get(name)
        if definition is None or parent is None:  # validation reports it
            return 1
        inner = self.selection_set(node.selection_set, get_named_type(definition.type))
        return min(1 + self.multiplier(parent, name, definition, node) * inner, COST_CEILING)

    def multiplier(
        self, parent: GraphQLNamedType, name: str, definition: GraphQLField, node: FieldNode
    ) -> int:
        returns = get_nullable_type(definition.type)
        if is_list_type(returns):
            # A connection's edges are as many as its `first`, already counted.
            if name == "edges" and parent.name.endswith("Connection"):
                return 1
            return list_size(parent.name, name)
        first = definition.args.get("first")
        if first is None or not get_named_type(returns).name.endswith("Connection"):
            return 1
        default = first.default_value if isinstance(first.default_value, int) else MAX_PAGE_SIZE
        value = self.int_argument(node, "first", default)
        # Out of range is the resolver's BAD_USER_INPUT, not a cost.
        return min(max(value, 0), MAX_PAGE_SIZE)

    def int_argument(self, node: FieldNode, name: str, default: int) -> int:
        argument = next((arg for arg in node.arguments or () if arg.name.value == name), None)
        value: ValueNode | object = argument.value if argument else None
        if isinstance(value, VariableNode):
            value = self.variables.get(value.name.value)
        elif isinstance(value, IntValueNode):
            value = int(value.value)
        # A variable that is no Int fails its coercion later; until then, the default.
        return value if isinstance(value, int) and not isinstance(value, bool) else default


def _root_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, Counter[str]]
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            counts[selection.name.value] += 1
            continue
        if isinstance(selection, FragmentSpreadNode):
            inner = fragments.get(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            inner = _root_fields(selection.selection_set, fragments)
        for name, count in (inner or {}).items():
            counts[name] = min(counts[name] + count, COST_CEILING)
    return counts
