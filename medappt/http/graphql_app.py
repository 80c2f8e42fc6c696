"""Strawberry's ASGI view, answering every refusal in the GraphQL shape, with Retry-After."""

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse

from medappt.http.error_body import error_response
from medappt.http.response_headers import request_id_of
from schema.context import Context, build_context
from services.errors import ErrorCode
from services.request_record import note_outcome

NOT_AN_OBJECT = "The request body must be a JSON object."
NOT_JSON = "The request body is not valid JSON."


class GraphQLApp(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            # Strawberry answers these in plain text; clients expect one shape.
            code = ErrorCode.NOT_FOUND if error.status_code == 404 else ErrorCode.BAD_USER_INPUT
            settings = request.state.services.settings
            note_outcome(code.value)
            response = error_response(
                error.status_code, error.reason, code, settings.max_query_cost
            )
        finally:
            # The operation gives its connection back when it ends; this is for one cut
            # short before that (the request deadline).
            context = getattr(request.state, "graphql_context", None)
            if isinstance(context, Context):
                await context.sessions.close()
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request)  # no subscriptions are served
        request_id = getattr(request.state, "request_id", None) or request_id_of(request.scope)
        context = await build_context(request, request.state.services, request_id)
        request.state.graphql_context = context
        return context

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
