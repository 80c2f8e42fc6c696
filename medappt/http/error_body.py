"""Refusals at the HTTP level in the shape of a GraphQL response: clients read one shape."""

from starlette.responses import JSONResponse

from services.errors import ErrorCode


def error_response(status: int, message: str, code: ErrorCode, max_query_cost: int) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [{"message": message, "extensions": {"code": code.value}}],
            # No operation ran: it asked for nothing.
            "extensions": {"cost": {"requested": 0, "limit": max_query_cost}},
        },
        status_code=status,
    )
