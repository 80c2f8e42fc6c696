"""Every argument is checked against its declared limits before a resolver runs.

Strings are checked against the limit their field declares (``schema.input_limits``;
``UNDECLARED`` if none, and a test insists none is missing), IDs must be ours (UUIDs),
and input objects and lists are checked field by field. A failure is BAD_USER_INPUT
naming where the value was: ``input.name: at most 200 characters``,
``input.clinicIds[1]: not a valid ID``. Dates, times, numbers and enums are the
scalars' and GraphQL's to check.
"""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from schema.input_limits import LIMIT, UNDECLARED, Limit
from services.errors import BadUserInput

# Raises BadUserInput if the value (found at the path) is not acceptable.
Check = Callable[[Any, str], None]

T = TypeVar("T")


def check_arguments(cls: T) -> T:
    """Class decorator (above ``@strawberry.type``): every field of ``cls`` that takes
    arguments checks them."""
    for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if field.arguments:
            field.extensions.append(CheckedArguments())
    return cls


class CheckedArguments(FieldExtension):
    def __init__(self) -> None:
        self._checks: list[tuple[str, str, Check]] = []

    def apply(self, field: StrawberryField) -> None:
        # Once per schema build: the walk over types is not repeated per request.
        self._checks = []
        for argument in field.arguments:
            name = argument.graphql_name or to_camel_case(argument.python_name)
            check = _check_for(argument.type, argument.metadata.get(LIMIT))
            if check is not None:
                self._checks.append((argument.python_name, name, check))

    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        for python_name, name, check in self._checks:
            value = kwargs.get(python_name)
            if value is not None and value is not strawberry.UNSET:
                check(value, name)
        return kwargs


def _check_for(type_: StrawberryType | type, limit: Limit | None) -> Check | None:
    """The check for values of ``type_``, or None where GraphQL's own coercion suffices."""
    if isinstance(type_, StrawberryOptional):
        inner = _check_for(type_.of_type, limit)
        return None if inner is None else _unless_null(inner)
    if isinstance(type_, StrawberryList):
        inner = _check_for(type_.of_type, limit)
        return None if inner is None else _each(inner)
    if type_ is strawberry.ID:
        return _check_id
    if type_ is str:
        return _text(limit or UNDECLARED)
    if isinstance(type_, type) and has_object_definition(type_):
        return _input_object(type_)
    return None


def _unless_null(check: Check) -> Check:
    def checked(value: Any, path: str) -> None:
        if value is not None and value is not strawberry.UNSET:
            check(value, path)

    return checked


def _each(check: Check) -> Check:
    def checked(values: list[Any], path: str) -> None:
        for index, value in enumerate(values):
            check(value, f"{path}[{index}]")

    return checked


def _check_id(value: str, path: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise BadUserInput(f"{path}: not a valid ID") from None


def _text(limit: Limit) -> Check:
    def checked(value: str, path: str) -> None:
        if problem := limit.problem(value):
            raise BadUserInput(f"{path}: {problem}")

    return checked


def _input_object(cls: type) -> Check | None:
    fields: list[tuple[str, str, Check]] = []
    for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        name = field.graphql_name or to_camel_case(field.python_name)
        check = _check_for(field.type, field.metadata.get(LIMIT))
        if check is not None:
            fields.append((field.python_name, name, check))
    if not fields:
        return None

    def checked(value: object, path: str) -> None:
        for python_name, name, check in fields:
            field_value = getattr(value, python_name)
            if field_value is not None and field_value is not strawberry.UNSET:
                check(field_value, f"{path}.{name}")

    return checked
