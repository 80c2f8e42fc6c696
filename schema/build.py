from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import DisableIntrospection
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext

from schema.errors import assign_code
from schema.extension_hooks import ExtensionsRunner
from schema.fast_executor import FastExecutor
from schema.limits.door import Door
from schema.limits.parsing import ParseWithTokenLimit
from schema.limits.validation import ValidateDocument
from schema.mutation import Mutation
from schema.no_suggestions import ExecutorWithoutSuggestions
from schema.query import Query
from schema.request_hooks import CredentialsAndAudit, ObservedOperation, TracedResolvers
from schema.scalars import SCALAR_OVERRIDES
from schema.subscription import Subscription
from services.persisted_documents.known import KnownDocuments
from services.settings import DEFAULT_MAX_QUERY_COST, ExecutorKind


class MedapptSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry routes every error of every phase (parse, validation,
        # execution) through here exactly once, before it is serialized.
        for error in errors:
            assign_code(error, execution_context)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)


class NamesKept(NameConverter):
    """Strawberry's camelCase names, each worked out once: converting arguments asks again
    for every argument and input field of every request (a booking's input, nine)."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = super().apply_naming_config(name)
        return found


class FastExecutorWithoutSuggestions(ExecutorWithoutSuggestions, FastExecutor):
    pass


def _executor_class(executor: ExecutorKind, suggestions: bool) -> type[Any] | None:
    """graphql-core's executor (``standard``) or the one that reads plain fields
    (``fast``, schema/fast_executor/); either hides suggestions in prod."""
    if executor == "fast":
        return FastExecutor if suggestions else FastExecutorWithoutSuggestions
    return None if suggestions else ExecutorWithoutSuggestions


def build_schema(
    *,
    introspection: bool = True,
    suggestions: bool = True,
    max_query_cost: int = DEFAULT_MAX_QUERY_COST,
    traced_resolvers: bool = False,
    documents: KnownDocuments | None = None,
    executor: ExecutorKind = "fast",
) -> Schema:
    """``introspection`` and ``suggestions`` (of names, in errors) are off in prod;
    ``traced_resolvers`` only when traces are exported (services/tracing.py);
    ``documents`` keeps the persisted queries of the process (the view finds them)."""
    # Factories, not instances: an extension keeps per-request state. The door
    # (schema/limits) parses, validates and costs in time linear in the document.
    extensions: list[Callable[[], SchemaExtension]] = [
        TracedResolvers if traced_resolvers else ObservedOperation,
        CredentialsAndAudit,
        ParseWithTokenLimit,
        partial(ValidateDocument, hide_suggestions=not suggestions),
        partial(Door, max_cost=max_query_cost, documents=documents or KnownDocuments(None)),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return MedapptSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(name_converter=NamesKept()),
        scalar_overrides=SCALAR_OVERRIDES,
        execution_context_class=_executor_class(executor, suggestions),
    )
