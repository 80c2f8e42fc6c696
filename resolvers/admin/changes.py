"""From update inputs to domain changes: a field left out is kept as it is."""

from typing import TypeVar

import strawberry

from domain.administration import KEEP, Keep
from services.errors import BadUserInput

T = TypeVar("T")


def given(value: T | None, field: str) -> T | Keep:
    """Left out: kept. Null is refused for a field that may not be empty."""
    if value is strawberry.UNSET:
        return KEEP
    if value is None:
        raise BadUserInput(f"`{field}` cannot be null; leave it out to keep it.")
    return value


def given_or_cleared(value: T | None) -> T | Keep | None:
    """Left out: kept. Null clears it."""
    return KEEP if value is strawberry.UNSET else value
