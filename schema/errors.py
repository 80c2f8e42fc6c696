"""Every error leaves with a contract code; unexpected ones leave without their details."""

import logging

from graphql import GraphQLError

from domain.errors import DomainError, ErrorCode

logger = logging.getLogger("medappt.graphql")

MASKED_MESSAGE = "Internal server error."


def assign_code(error: GraphQLError) -> None:
    """Set ``extensions.code`` in place, masking what the caller must not see."""
    if "code" in (error.extensions or {}):
        return
    original = error.original_error
    if isinstance(original, DomainError):
        code = original.code
    elif original is None:
        # Syntax and validation errors describe the request, not the server.
        code = ErrorCode.BAD_USER_INPUT
    else:
        logger.error("unexpected error at %s", error.path, exc_info=original)
        code = ErrorCode.INTERNAL_SERVER_ERROR
        error.message = MASKED_MESSAGE
    error.extensions = {**(error.extensions or {}), "code": code.value}
