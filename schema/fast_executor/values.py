"""What the executor's modules tell each other about a value (schema/fast_executor)."""

from typing import Any

from graphql import Undefined

# No value: an attribute not in an instance's __dict__, or a field's value the fast path
# leaves to graphql-core (execute_field or complete_value fills it and says what is wrong).
MISSING = object()


def all_there(items: list[Any], is_awaitable: Any) -> bool:
    """Whether every item completes as an object: graphql-core has something to say
    about a null (an error for a non-null item type), an exception or an awaitable."""
    for item in items:
        if item is None or item is Undefined or isinstance(item, Exception) or is_awaitable(item):
            return False
    return True
