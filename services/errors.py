"""Failures a caller can act on. Each carries a code from the public contract."""

import enum


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class DomainError(Exception):
    """An expected failure; its message is safe to show to the caller."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        # Whole seconds until the same request may succeed (extensions.retryAfter).
        self.retry_after = max(1, retry_after)


class QueryTooComplex(DomainError):
    code = ErrorCode.QUERY_TOO_COMPLEX


class PersistedQueryNotFound(DomainError):
    """A document asked for by a hash this API does not know, or may not run."""

    code = ErrorCode.PERSISTED_QUERY_NOT_FOUND

    def __init__(self) -> None:
        # The exact words Apollo's clients look for before sending the document.
        super().__init__("PersistedQueryNotFound")


class ServiceUnavailable(DomainError):
    """A server we need is unreachable: safe to retry."""

    code = ErrorCode.SERVICE_UNAVAILABLE


class SlotUnavailable(DomainError):
    code = ErrorCode.SLOT_UNAVAILABLE


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
