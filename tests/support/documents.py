"""The GraphQL documents written in the test suite, for running them again elsewhere.

Every string literal in tests/ that parses as an executable document and is valid
against schema.graphql counts, each operation of it on its own; documents put together
at run time (f-strings, joins) are not seen. Variables get values from a world's ids
by the argument they are passed to (``patient(id: $id)`` gets a patient's id).
"""

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql

TESTS = Path(__file__).parent.parent
SCHEMA = graphql.build_schema((TESTS.parent / "schema.graphql").read_text())


@dataclass(frozen=True)
class Operation:
    document: str
    name: str | None  # operationName, when the document has more than one
    kind: graphql.OperationType
    where: str  # file:line of the literal

    @property
    def ast(self) -> graphql.OperationDefinitionNode:
        for definition in graphql.parse(self.document).definitions:
            if isinstance(definition, graphql.OperationDefinitionNode) and (
                self.name is None or (definition.name and definition.name.value == self.name)
            ):
                return definition
        raise AssertionError(self.name)


def _literals(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


def suite_operations() -> list[Operation]:
    """Each valid operation written in tests/, once (first place it appears)."""
    seen: set[tuple[str, str | None]] = set()
    operations = []
    for path in sorted(TESTS.rglob("*.py")):
        for text, line in _literals(path):
            if "{" not in text:
                continue
            try:
                document = graphql.parse(text)
            except graphql.GraphQLError:
                continue
            if graphql.validate(SCHEMA, document):
                continue
            defined = [
                d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)
            ]
            for definition in defined:
                name = definition.name.value if len(defined) > 1 and definition.name else None
                if (text, name) in seen:
                    continue
                seen.add((text, name))
                where = f"{path.relative_to(TESTS.parent)}:{line}"
                operations.append(Operation(text, name, definition.operation, where))
    return operations


# What an ID argument names, by argument name (`doctorId`) or by field (`patient(id:)`).
IdKind = str
ID_KINDS: Mapping[str, IdKind] = {
    "patientId": "patient",
    "doctorId": "doctor",
    "doctorIds": "doctor",
    "clinicId": "clinic",
    "clinicIds": "clinic",
    "appointmentId": "appointment",
    "recordId": "record",
    "userId": "user",
    "patient": "patient",
    "doctor": "doctor",
    "appointment": "appointment",
    "clinic": "clinic",
}


def variable_values(
    operation: Operation, ids: Mapping[IdKind, str], scalars: Mapping[str, Any]
) -> dict[str, Any]:
    """Values for the operation's variables: ids of ``ids`` by what they name (its
    ``default`` when unknown), ``scalars`` by type name, input objects with their
    required fields."""
    uses = _variable_uses(operation.ast)
    values: dict[str, Any] = {}
    for definition in operation.ast.variable_definitions or ():
        name = definition.variable.name.value
        type_ = graphql.type_from_ast(SCHEMA, definition.type)
        assert graphql.is_input_type(type_)
        values[name] = _value(type_, ids, scalars, uses.get(name))
    return values


def _variable_uses(operation: graphql.OperationDefinitionNode) -> dict[str, str]:
    """Variable -> the ID kind of the argument it is passed to (directly)."""
    type_info = graphql.TypeInfo(SCHEMA)
    uses: dict[str, str] = {}

    class Uses(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: object) -> None:
            field = type_info.get_field_def()
            if not isinstance(node.value, graphql.VariableNode) or field is None:
                return
            argument = node.name.value
            parent = type_info.get_parent_type()
            field_name = next(
                (name for name, f in getattr(parent, "fields", {}).items() if f is field), ""
            )
            kind = ID_KINDS.get(argument) or (
                ID_KINDS.get(field_name) if argument == "id" else None
            )
            if kind is not None:
                uses[node.value.name.value] = kind

    graphql.visit(operation, graphql.TypeInfoVisitor(type_info, Uses()))
    return uses


def _value(
    type_: graphql.GraphQLInputType,
    ids: Mapping[IdKind, str],
    scalars: Mapping[str, Any],
    kind: IdKind | None,
) -> Any:
    if isinstance(type_, graphql.GraphQLNonNull):
        return _value(type_.of_type, ids, scalars, kind)
    if isinstance(type_, graphql.GraphQLList):
        return [_value(type_.of_type, ids, scalars, kind)]
    if isinstance(type_, graphql.GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        return {
            name: _value(input_field.type, ids, scalars, ID_KINDS.get(name))
            for name, input_field in type_.fields.items()
            if graphql.is_required_input_field(input_field)
        }
    assert isinstance(type_, graphql.GraphQLScalarType)
    if type_.name == "ID":
        return ids.get(kind or "default", ids["default"])
    return scalars[type_.name]
