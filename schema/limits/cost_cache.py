"""The cost of an operation, computed once per document text, operation and the values of
the variables that change it (those passed as a connection's ``first``).

A document sent again, by hash (persisted queries) or in full, is costed from memory,
as it is parsed and validated from memory (``parsing``, ``validation``).
"""

from collections.abc import Mapping
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    get_operation_ast,
    visit,
)
from graphql.language import Visitor

from schema.limits.cost import OperationCost, operation_cost
from schema.limits.parsing import parse_document

# Variables that decide a cost: a name with its value's type (``True == 1`` in a key).
CostInputs = tuple[tuple[str, str, object], ...]


def cached_operation_cost(
    schema: GraphQLSchema,
    query: str | None,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, object],
) -> OperationCost:
    """``operation_cost``, from memory when the same text was costed with the same inputs."""
    if query is None:
        return operation_cost(schema, document, operation, variables)
    # Only those sent: a variable left out takes its default from the document.
    inputs = tuple(
        (name, type(variables[name]).__name__, variables[name])
        for name in _first_variables(query)
        if name in variables
    )
    try:
        hash(inputs)
    except TypeError:  # a list or an object where an Int belongs: refused later
        return operation_cost(schema, document, operation, variables)
    name = operation.name.value if operation.name else None
    return _cost(schema, query, name, inputs)


@lru_cache(maxsize=512)
def _cost(
    schema: GraphQLSchema, query: str, operation_name: str | None, inputs: CostInputs
) -> OperationCost:
    # The same text parses to the same (cached) document the door validated.
    document = parse_document(query)
    operation = get_operation_ast(document, operation_name)
    assert operation is not None  # it was found in this document before
    return operation_cost(schema, document, operation, {name: value for name, _, value in inputs})


@lru_cache(maxsize=256)
def _first_variables(query: str) -> tuple[str, ...]:
    """Names of the variables passed as ``first`` anywhere in the document, in order."""
    names: dict[str, None] = {}

    class FirstArguments(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            for argument in node.arguments or ():
                if argument.name.value == "first" and isinstance(argument.value, VariableNode):
                    names[argument.value.name.value] = None

    visit(parse_document(query), FirstArguments())
    return tuple(names)
