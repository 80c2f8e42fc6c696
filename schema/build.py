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

from schema.errors import assign_code
from schema.mutation import Mutation
from schema.query import Query
from schema.request_hooks import CredentialsAndAudit
from schema.scalars import SCALAR_OVERRIDES

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
        # Strawberry routes every error of every phase (parse, validation,
        # execution) through here exactly once, before it is serialized.
        for error in errors:
            assign_code(error, execution_context)


def build_schema(*, introspection: bool = True) -> Schema:
    # Factories, not instances: an extension keeps per-request state.
    extensions: list[Callable[[], SchemaExtension]] = [
        CredentialsAndAudit,
        partial(MaxTokensLimiter, MAX_TOKENS),
        partial(ParserCache, maxsize=256),
        partial(AddValidationRules, VALIDATION_RULES),
        partial(ValidationCache, maxsize=256),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return MedapptSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        scalar_overrides=SCALAR_OVERRIDES,
    )
