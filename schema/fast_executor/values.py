"""What the executor's modules tell each other about a value (schema/fast_executor)."""

from collections.abc import Callable
from enum import Enum
from typing import Any

from graphql import GraphQLEnumType, GraphQLLeafType, Undefined

# No value: an attribute not in an instance's __dict__, or a field's value the fast path
# leaves to graphql-core (execute_field or complete_value fills it and says what is wrong).
MISSING = object()


# Values of these exact types are never awaitable: a type lookup instead of a call to
# Strawberry's is_awaitable for each completed object and leaf.
NEVER_AWAITABLE = frozenset({dict, list, str, int, float, bool, type(None)})


def serializer(leaf_type: GraphQLLeafType) -> Callable[[Any], Any]:
    """``leaf_type.coerce_output_value``; for an enum type, remembered per member:
    Strawberry's scans the type's values, reading each member's value, for every value."""
    coerce = leaf_type.coerce_output_value
    if not isinstance(leaf_type, GraphQLEnumType):
        return coerce
    # By identity: members live as long as their class, so an id found is that member.
    names: dict[int, Any] = {}

    def serialize(value: Any) -> Any:
        name = names.get(id(value))
        if name is None:
            name = coerce(value)
            if isinstance(value, Enum):
                names[id(value)] = name
        return name

    return serialize


def all_there(items: list[Any], is_awaitable: Any) -> bool:
    """Whether every item completes as an object: graphql-core has something to say
    about a null (an error for a non-null item type), an exception or an awaitable."""
    for item in items:
        if item is None or item is Undefined or isinstance(item, Exception) or is_awaitable(item):
            return False
    return True


def coerce_leaves(coerce: Callable[[Any], Any], values: Any) -> list[Any] | None:
    """The serialized leaves of a list, or None where one is null, an exception or refused
    (graphql-core then says what is wrong); the serializer's own errors are raised."""
    if not isinstance(values, list):
        return None
    coerced = []
    for value in values:
        if value is None or isinstance(value, Exception):
            return None
        out = coerce(value)
        if out is None or out is Undefined:
            return None
        coerced.append(out)
    return coerced
