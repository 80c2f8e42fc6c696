"""Strawberry's ASGI view, answering every refusal in the GraphQL shape, with Retry-After;
documents named by hash (persisted and trusted documents) are found here;
subscriptions over graphql-transport-ws (medappt/http/subscription_socket.py)."""

import json
from collections.abc import Sequence
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.ides import GraphQL_IDE
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from medappt.http.error_body import error_response
from medappt.http.response_headers import request_id_of
from medappt.http.subscription_socket import OpenSubscriptions, SubscriptionSocket
from schema.context import Context, build_context
from services.errors import BadUserInput, ErrorCode, PersistedQueryNotFound
from services.persisted_documents.known import KnownDocuments
from services.request_record import note_outcome

NOT_AN_OBJECT = "The request body must be a JSON object."
NOT_JSON = "The request body is not valid JSON."
NOT_VIA_GET = "Only queries can be sent with GET; send mutations with POST."


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SubscriptionSocket

    def __init__(
        self,
        schema: BaseSchema,
        *,
        documents: KnownDocuments,
        graphql_ide: "GraphQL_IDE | None",
        allowed_origins: Sequence[str],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=graphql_ide,
            # Queries only (a mutation is 405), for persisted queries and HTTP caching.
            allow_queries_via_get=True,
            # A browser's handshake from another origin: those of MEDAPPT_CORS_ORIGINS.
            allowed_origins=allowed_origins,
            # The contract's protocol only; its caps are SubscriptionSocket's.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=None,
        )
        self.documents = documents
        self.open_subscriptions = OpenSubscriptions()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        settings = request.state.services.settings
        try:
            response = await self.run(request)
        except HTTPException as error:
            # Strawberry answers these in plain text; clients expect one shape.
            code = ErrorCode.NOT_FOUND if error.status_code == 404 else ErrorCode.BAD_USER_INPUT
            note_outcome(code.value)
            response = error_response(
                error.status_code, error.reason, code, settings.max_query_cost
            )
            if error.status_code == 405:
                response.headers["Allow"] = "POST" if error.reason == NOT_VIA_GET else "GET, POST"
        except (PersistedQueryNotFound, BadUserInput) as error:
            # Apollo's clients send the document after a 200 with PERSISTED_QUERY_NOT_FOUND.
            status = 200 if isinstance(error, PersistedQueryNotFound) else 400
            note_outcome(error.code.value)
            response = error_response(status, error.message, error.code, settings.max_query_cost)
        finally:
            # The operation gives its connection back when it ends; this is for one cut
            # short before that (the request deadline).
            context = getattr(request.state, "graphql_context", None)
            if isinstance(context, Context):
                await context.sessions.close()
                # The context holds the request, whose state holds the context: cut the
                # cycle, so the request's objects go without the collector.
                del request.state.graphql_context
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET by hash alone has no `query` either: it is an operation, not a visit.
        return super().should_render_graphql_ide(request) and not request.query_params.get(
            "extensions"
        )

    async def execute_single(  # noqa: PLR0917 - strawberry's signature
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # The document a hash names, or a refusal (persisted and trusted documents).
        request_data.query = await self.documents.document(
            context.redis, request_data.query, request_data.extensions
        )
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            # GraphQL over HTTP: a mutation sent with GET is 405, and nothing ran.
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, NOT_VIA_GET) from error
            raise

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        request_id = getattr(request.state, "request_id", None) or request_id_of(request.scope)
        # Over a WebSocket, the token comes later, in connection_init (SubscriptionSocket).
        over_http = isinstance(request, Request)
        authorization = request.headers.get("authorization") if over_http else None
        context = await build_context(
            request, request.state.services, request_id, authorization,
            revocations_at_door=over_http,
        )  # fmt: skip
        request.state.graphql_context = context
        return context

    def encode_json(self, data: object) -> str:
        # orjson: a page of 50 records in a twentieth of json.dumps' time. Text, as
        # subscriptions send it in text frames. A string json.dumps takes and orjson
        # refuses (an unpaired surrogate) goes the old way.
        try:
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:
            return json.dumps(data, separators=(",", ":"))

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        # The usual request, a POST of plain JSON that asks for no stream, is read here
        # without Strawberry's parsing of its Content-Type (through email.message: a third
        # of the method's 25 µs). Any other, or a body whose fields are of the wrong types
        # (Strawberry says which), is read by Strawberry.
        if (
            request.method != "POST"
            or request.content_type != "application/json"
            or self._get_stream_transport_from_headers(request.headers) is not None
        ):
            return await super().parse_http_body(request)
        body = self.parse_json(await request.get_body())
        query, variables = body.get("query"), body.get("variables")
        extensions = body.get("extensions")
        if not (
            isinstance(query, str | None)
            and isinstance(variables, dict | None)
            and isinstance(extensions, dict | None)
        ):
            return await super().parse_http_body(request)
        return GraphQLRequestData(
            query=query,
            variables=variables,
            operation_name=body.get("operationName"),
            extensions=extensions,
            protocol="http",
        )

    def decode_json(self, data: str | bytes) -> object:
        # orjson: a request body in a fifth of json.loads' time. JSON that orjson refuses
        # (an integer past 64 bits, which the variable's type then refuses) goes the old way.
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            body = self.decode_json(data)
        # Not JSON, not UTF-8, or nested past the parser's recursion limit.
        except (ValueError, RecursionError):
            raise HTTPException(400, NOT_JSON) from None
        if not isinstance(body, dict):  # a batch, a string, a number, null
            raise HTTPException(400, NOT_AN_OBJECT)
        return body

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict):
            note_outcome(_first_code(response_data))
            if wait := _retry_after(response_data):
                response.headers["Retry-After"] = str(wait)
        return response


def _first_code(response_data: GraphQLHTTPResponse) -> str:
    """``OK`` for a response without errors, else its first error's code."""
    for error in response_data.get("errors") or ():
        code = error.get("extensions", {}).get("code") if isinstance(error, dict) else None
        return str(code or ErrorCode.INTERNAL_SERVER_ERROR.value)
    return "OK"


def _retry_after(response_data: GraphQLHTTPResponse) -> int | None:
    waits = [
        error["extensions"]["retryAfter"]
        for error in response_data.get("errors") or ()
        if isinstance(error, dict) and "retryAfter" in error.get("extensions", {})
    ]
    return max(waits, default=None)
