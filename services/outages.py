"""Which failures mean "a server we need is not answering": SERVICE_UNAVAILABLE, safe to retry."""

from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

UNAVAILABLE_MESSAGE = "A server this request needs is unavailable; try again."

# SQLSTATE classes and codes of PostgreSQL that a retry may cure: connection
# exceptions, operator intervention (57014 is a statement over its timeout, 57P01
# a shutdown), too many connections, a lock not granted within lock_timeout, and
# a transaction ended by idle_in_transaction_session_timeout.
_UNAVAILABLE_CLASSES = ("08", "57", "53")
_UNAVAILABLE_STATES = ("55P03", "25P03")

_UNAVAILABLE_TYPES = (
    OSError,  # refused, reset, unreachable (ConnectionError is one)
    TimeoutError,  # asyncio's, and a connect that did not finish
    PoolTimeoutError,  # no connection free in the pool in time
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
)


def is_outage(error: BaseException) -> bool:
    """Whether ``error``, or one it came from, says a server was down, slow or overloaded."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and not any(current is other for other in seen):
        seen.append(current)
        if isinstance(current, _UNAVAILABLE_TYPES):
            return True
        # The connection died under a statement (SQLAlchemy then drops it): as 08xxx.
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and (
            state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_STATES
        ):
            return True
        current = current.__cause__ or current.__context__ or getattr(current, "orig", None)
    return False
