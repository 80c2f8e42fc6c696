"""Per-request hooks around every operation: what the logs, metrics and traces say of
it first, then credentials, and the audit trail last."""

from collections.abc import AsyncIterator, Awaitable, Callable
from inspect import isawaitable
from typing import Any

from graphql import GraphQLResolveInfo
from graphql.utilities import get_operation_ast
from opentelemetry.trace import Span, Status, StatusCode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from schema.context import Context
from services.request_record import ANONYMOUS, current_request


class ObservedOperation(SchemaExtension):
    """Names the operation and the caller in the request's record (log lines, metrics)
    and, when tracing, wraps the operation in a span named after it."""

    span: Span | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        context: Context = self.execution_context.context
        record = current_request.get()
        if record is not None and context.caller is not None:
            record.user_id = str(context.caller.user_id)
        tracer = context.services.tracer
        if tracer is None:
            # Finally: a refusal raised inside (RATE_LIMITED, SERVICE_UNAVAILABLE) is
            # still counted under the operation's name.
            try:
                yield
            finally:
                if record is not None:
                    record.operation = operation_name(self.execution_context)
            return
        with tracer.start_as_current_span("graphql.operation") as self.span:
            try:
                yield
            finally:
                name = operation_name(self.execution_context)
                if record is not None:
                    record.operation = name
                self.span.update_name(f"graphql {name}")
                self.span.set_attribute("graphql.operation.name", name)
            result = self.execution_context.result
            if result is not None and result.errors:
                codes = [(error.extensions or {}).get("code") for error in result.errors]
                self.span.set_status(Status(StatusCode.ERROR, str(codes[0])))


class TracedResolvers(ObservedOperation):
    """ObservedOperation plus a span for each resolver that awaits something (a loader, a
    statement), only in sampled traces. Separate because an extension with ``resolve``
    wraps every field of every request, sampled or not: it is used only when tracing."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        result = _next(root, info, *args, **kwargs)
        if self.span is None or not self.span.is_recording() or not isawaitable(result):
            return result
        return self._traced(result, f"{info.parent_type.name}.{info.field_name}")

    async def _traced(self, result: Awaitable[Any], field: str) -> Any:
        context: Context = self.execution_context.context
        assert context.services.tracer is not None
        with context.services.tracer.start_as_current_span(f"resolve {field}"):
            return await result


def operation_name(execution_context: ExecutionContext) -> str:
    """The name of the operation that ran, or ``anonymous``: never a name the client sent
    in ``operationName`` that the document does not define."""
    document = execution_context.graphql_document
    if document is None:
        return ANONYMOUS
    operation = get_operation_ast(document, execution_context.operation_name)
    if operation is None or operation.name is None:
        return ANONYMOUS
    return operation.name.value


class CredentialsAndAudit(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        context: Context = self.execution_context.context
        if context.credentials_error is not None:
            # A bad token is never treated as "anonymous": the client must know.
            raise context.credentials_error
        try:
            yield
        finally:
            # One statement for everything this request read or changed.
            await context.audit.flush(context.sessions)
