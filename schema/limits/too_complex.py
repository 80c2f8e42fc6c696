"""The error of a document refused by the door, before anything runs."""

from graphql import GraphQLError, Node

from services.errors import ErrorCode


def too_complex(message: str, node: Node | None = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})
