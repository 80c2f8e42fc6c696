from collections.abc import Callable
from functools import partial

from graphql import ASTValidationRule, GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes
from schema.query import Query

MAX_DEPTH = 10
MAX_ALIASES = 200
MAX_TOKENS = 5000

# Built once: rule classes made per request would never hit the validation
# cache, which keys on them (strawberry issue #4635).
VALIDATION_RULES: list[type[ASTValidationRule]] = [
    max_depth_rule(MAX_DEPTH, None),
    max_aliases_rule(MAX_ALIASES),
]


class MedapptSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs what is unexpected; expected failures are no log noise.
        return None


def build_schema(*, introspection: bool = True) -> Schema:
    # Factories, not instances: an extension keeps per-request state.
    extensions: list[Callable[[], SchemaExtension]] = [
        ErrorCodes,
        partial(MaxTokensLimiter, MAX_TOKENS),
        partial(ParserCache, maxsize=256),
        partial(AddValidationRules, VALIDATION_RULES),
        partial(ValidationCache, maxsize=256),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return MedapptSchema(query=Query, extensions=extensions, config=StrawberryConfig(auto_camel_case=True))
