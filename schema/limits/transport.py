"""Subscriptions over a WebSocket, everything else over HTTP: each transport has the
guards made for it (the request deadline, the access log, Cache-Control for HTTP; the
token in connection_init and the caps for a WebSocket)."""

from collections.abc import AsyncIterator

from graphql import OperationType, get_operation_ast
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from schema.context import Context
from services.errors import BadUserInput

SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "Subscriptions are served over a WebSocket to /graphql (graphql-transport-ws) only."
)
OTHERS_OVER_HTTP = (
    "Over a WebSocket only subscriptions are served; send queries and mutations by POST /graphql."
)


class OperationTransport(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None
        operation = get_operation_ast(execution.graphql_document, execution.operation_name)
        assert operation is not None  # strawberry refused the request otherwise
        context: Context = execution.context
        subscription = operation.operation is OperationType.SUBSCRIPTION
        over_websocket = isinstance(context.request, WebSocket)
        if subscription and not over_websocket:
            raise BadUserInput(SUBSCRIPTIONS_OVER_WEBSOCKET)
        if over_websocket and not subscription:
            raise BadUserInput(OTHERS_OVER_HTTP)
        yield
