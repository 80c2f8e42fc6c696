"""Subscriptions over a WebSocket, everything else over HTTP: each transport has the
guards made for it (the request deadline, the access log, Cache-Control for HTTP; the
token in connection_init and the caps for a WebSocket). Checked by the Door."""

from graphql import OperationDefinitionNode, OperationType
from starlette.websockets import WebSocket

from schema.context import Context
from services.errors import BadUserInput

SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "Subscriptions are served over a WebSocket to /graphql (graphql-transport-ws) only."
)
OTHERS_OVER_HTTP = (
    "Over a WebSocket only subscriptions are served; send queries and mutations by POST /graphql."
)


def check_transport(operation: OperationDefinitionNode, context: Context) -> None:
    """Refuses (BAD_USER_INPUT) an operation sent over the other transport."""
    subscription = operation.operation is OperationType.SUBSCRIPTION
    over_websocket = isinstance(context.request, WebSocket)
    if subscription and not over_websocket:
        raise BadUserInput(SUBSCRIPTIONS_OVER_WEBSOCKET)
    if over_websocket and not subscription:
        raise BadUserInput(OTHERS_OVER_HTTP)
