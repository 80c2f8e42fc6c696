"""What the logs and metrics say about the request being served, wherever they are written."""

from contextvars import ContextVar
from dataclasses import dataclass

ANONYMOUS = "anonymous"


@dataclass(slots=True)
class RequestRecord:
    """Filled in as the request goes: the HTTP edge opens it, GraphQL names the operation,
    the caller and the outcome; the access line and the metrics read it at the end."""

    request_id: str
    # The operation's name as a metric label (``anonymous`` when unnamed); None
    # until a GraphQL operation was seen.
    operation: str | None = None
    user_id: str | None = None
    # ``OK`` or the first error's code; None for requests that were not GraphQL.
    code: str | None = None


current_request: ContextVar[RequestRecord | None] = ContextVar("current_request", default=None)


def note_outcome(code: str) -> None:
    """Record the GraphQL outcome of the request being served, if one is."""
    record = current_request.get()
    if record is not None:
        record.code = code
        if record.operation is None:
            record.operation = ANONYMOUS
