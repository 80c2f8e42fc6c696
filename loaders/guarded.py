"""The one way a loader hands out rows the caller may or may not see.

Every id is audited, read or refused; a caller who may not see a row is refused the
same way whether or not it exists, and only admins learn that an id is unknown (null).
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.audit import AuditTrail
from domain.caller import Caller
from services.errors import Forbidden, Unauthenticated

Row = TypeVar("Row")
# For each id found: the row, and whether the caller may see it.
Fetch = Callable[
    [async_sessionmaker[AsyncSession], Caller, Sequence[uuid.UUID]],
    Awaitable[Mapping[uuid.UUID, tuple[Row, bool]]],
]


async def load_guarded(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller | None,
    audit: AuditTrail,
    ids: Sequence[uuid.UUID],
    *,
    fetch: Fetch[Row],
    noun: str,
    patient_of: Callable[[Row], uuid.UUID],
) -> list[Row | Exception | None]:
    if caller is None:
        return [Unauthenticated(f"Sign in to see {noun}s.") for _ in ids]
    found = await fetch(sessions, caller, ids)
    results: list[Row | Exception | None] = []
    for id_ in ids:
        row, allowed = found.get(id_, (None, caller.is_admin))
        patient_id = patient_of(row) if row is not None else None
        record = audit.allowed if allowed else audit.denied
        record(f"{noun}.read", patient_id=patient_id, resource_type=noun.title(), resource_id=id_)
        results.append(row if allowed else Forbidden(f"You may not see this {noun}."))
    return results
