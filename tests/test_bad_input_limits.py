"""Every argument is checked before its resolver runs, and every string says its limit."""

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLObjectType
from strawberry.types.base import StrawberryContainer, StrawberryType

from schema import build_schema
from schema.checked_arguments import CheckedArguments
from schema.input_limits import LIMIT

DEFINITION = "strawberry-definition"  # where strawberry keeps its own view of a type


def _strings_and_fields() -> Iterator[tuple[str, bool, Mapping[Any, Any] | None]]:
    """(place, whether it is a String, its metadata) for every argument and input
    field; for every field with arguments, (place, False, None) if it checks none."""
    types = build_schema()._schema.type_map.values()
    for type_ in types:
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for name, field in type_.fields.items():
                definition = field.extensions[DEFINITION]
                if field.args and not any(
                    isinstance(extension, CheckedArguments) for extension in definition.extensions
                ):
                    yield f"{type_.name}.{name} checks nothing", False, None
                for argument in definition.arguments:
                    where = f"{type_.name}.{name}({argument.python_name})"
                    yield where, _is_string(argument.type), argument.metadata
        elif isinstance(type_, GraphQLInputObjectType):
            for field in type_.extensions[DEFINITION].fields:
                yield f"{type_.name}.{field.python_name}", _is_string(field.type), field.metadata


def _is_string(type_: StrawberryType | type) -> bool:
    while isinstance(type_, StrawberryContainer):
        type_ = type_.of_type
    return type_ is str


def test_every_field_with_arguments_checks_them() -> None:
    unchecked = [where for where, _, metadata in _strings_and_fields() if metadata is None]

    assert unchecked == []


def test_every_string_argument_and_input_field_declares_a_limit() -> None:
    undeclared = [
        where
        for where, is_string, metadata in _strings_and_fields()
        if is_string and LIMIT not in (metadata or {})
    ]

    assert undeclared == []
