"""IDs are opaque strings to clients; inside they are UUIDs."""

import uuid

import strawberry

from services.errors import BadUserInput


def parse_id(value: strawberry.ID | str, argument: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput(f"`{argument}` is not a valid ID.") from None
