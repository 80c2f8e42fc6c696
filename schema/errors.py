"""Every error leaves with a contract code; unexpected ones leave without their details."""

import logging

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from schema.input_errors import name_the_argument
from services.errors import DomainError, ErrorCode, RateLimited
from services.logs import describe_exception, summarize_exception
from services.outages import UNAVAILABLE_MESSAGE, is_outage

logger = logging.getLogger("medappt.graphql")

MASKED_MESSAGE = "Internal server error."


def assign_code(error: GraphQLError, execution_context: ExecutionContext | None = None) -> None:
    """Set ``extensions.code`` in place, masking what the caller must not see."""
    if "code" in (error.extensions or {}):
        return
    original = error.original_error
    if isinstance(original, DomainError):
        code = original.code
    elif _about_the_request(error):
        code = ErrorCode.BAD_USER_INPUT
        document = execution_context.graphql_document if execution_context else None
        name_the_argument(error, document)
    elif original is not None and is_outage(original):
        # A server down, slow or out of connections: the client may retry.
        logger.warning("server unavailable at %s: %s", error.path, summarize_exception(original))
        code = ErrorCode.SERVICE_UNAVAILABLE
        error.message = UNAVAILABLE_MESSAGE
    else:
        # The exception's message may quote a patient's data (a key in a DETAIL line).
        cause = describe_exception(original) if original else error.message
        logger.error("unexpected error at %s\n%s", error.path, cause)
        code = ErrorCode.INTERNAL_SERVER_ERROR
        error.message = MASKED_MESSAGE
    error.extensions = {**(error.extensions or {}), "code": code.value}
    if isinstance(original, RateLimited):
        error.extensions["retryAfter"] = original.retry_after


def _about_the_request(error: GraphQLError) -> bool:
    """Syntax and validation errors (no cause), and values graphql-core or strawberry
    refused while coercing them (a GraphQLError as the cause, in the variables or in
    an argument): the client's to fix. graphql-core's errors without a cause during
    execution (a null for a non-null field) are the server's."""
    if isinstance(error.original_error, GraphQLError):
        return True
    return error.original_error is None and error.path is None
