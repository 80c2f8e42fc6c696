"""Every error leaves with a contract code; unexpected ones leave without their details."""

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, ErrorCode

logger = logging.getLogger("medappt.graphql")

MASKED_MESSAGE = "Internal server error."


def with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        code, message = original.code, original.message
    elif original is None:
        # Syntax and validation errors describe the request, not the server.
        code, message = ErrorCode.BAD_USER_INPUT, error.message
    else:
        logger.error("unexpected error in %s", error.path, exc_info=original)
        code, message = ErrorCode.INTERNAL_SERVER_ERROR, MASKED_MESSAGE
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code.value},
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [with_code(error) for error in result.errors]
