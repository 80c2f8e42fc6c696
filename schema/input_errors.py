"""Where a refused value was given, said at the start of graphql-core's errors.

graphql-core names the variable (``Variable '$i' has invalid value at .sizeBytes``)
or nothing at all (a literal in the document). Clients map errors to form fields by
argument, so both become ``input.sizeBytes: <reason>``, the same as the errors of
``schema.checked_arguments``.
"""

import re
from collections.abc import Iterator

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

_VARIABLE_ERROR = re.compile(
    r"Variable '\$(?P<name>\w+)' has invalid value(?: at (?P<at>\S+))?: (?P<reason>.*)", re.DOTALL
)
# graphql-core ends some reasons with the whole value sent; it may be a patient's.
_ECHO = re.compile(r"(,)? [Ff]ound: .*$", re.DOTALL)


def name_the_argument(error: GraphQLError, document: DocumentNode | None) -> None:
    """Prefix the message, in place, with the argument path of the refused value."""
    node = error.nodes[0] if error.nodes else None
    if document is None or node is None:
        return
    if isinstance(node, VariableDefinitionNode):
        match = _VARIABLE_ERROR.fullmatch(error.message)
        if match is None:
            return
        name = match["name"]
        where = _first_use(document, name) or f"${name}"
        reason = _ECHO.sub(lambda echo: "." if echo[1] else "", match["reason"])
        error.message = f"{where}{match['at'] or ''}: {reason}"
    elif isinstance(node, ValueNode | ObjectFieldNode):
        place = _place_of(document, node)
        if place is not None:
            error.message = f"{place}: {error.message}"


def _first_use(document: DocumentNode, variable: str) -> str | None:
    for where, node in _argument_values(document):
        if isinstance(node, VariableNode) and node.name.value == variable:
            return where
    return None


def _place_of(document: DocumentNode, target: Node) -> str | None:
    # Errors may come from a cache that outlives the parsed document: compare places.
    key = _position(target)
    if key is None:
        return None
    for where, node in _argument_values(document):
        if _position(node) == key:
            return where
    return None


def _position(node: Node) -> tuple[str, int, int] | None:
    return (node.kind, node.loc.start, node.loc.end) if node.loc else None


class _Arguments(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[ArgumentNode] = []

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        self.found.append(node)


def _argument_values(document: DocumentNode) -> Iterator[tuple[str, Node]]:
    arguments = _Arguments()
    visit(document, arguments)
    for argument in arguments.found:
        yield from _values(argument.name.value, argument.value)


def _values(where: str, node: Node) -> Iterator[tuple[str, Node]]:
    yield where, node
    if isinstance(node, ObjectValueNode):
        for field in node.fields:
            inner = f"{where}.{field.name.value}"
            yield inner, field
            yield from _values(inner, field.value)
    elif isinstance(node, ListValueNode):
        for index, value in enumerate(node.values):
            yield from _values(f"{where}[{index}]", value)
