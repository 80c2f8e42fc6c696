from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

DEADLOCK_DETECTED = "40P01"


async def flush_guarded(session: AsyncSession, change: Callable[[], None]) -> None:
    """Make ``change`` and flush it inside a savepoint, so that a constraint violation
    leaves the rest of the transaction usable.

    Two transactions inserting rows that conflict under an exclusion constraint can
    each wait for the other; PostgreSQL then aborts one with a deadlock. The other
    one decides the outcome, so the aborted change is simply tried once more.
    ``change`` runs inside the savepoint because begin_nested() first flushes what
    is pending, outside it.
    """
    for attempt in (1, 2):
        try:
            async with session.begin_nested():
                change()
                await session.flush()
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED or attempt == 2:
                raise
        else:
            return
