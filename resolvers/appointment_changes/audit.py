"""Every change to an appointment is audited: refusals here; the changes made through
domain.audit.appointment_changed."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.audit import AuditTrail
from services.errors import Forbidden, NotFound


@asynccontextmanager
async def audited_change(
    audit: AuditTrail, action: str, appointment_id: uuid.UUID | None = None
) -> AsyncIterator[None]:
    """Records a refusal (not yours, or no such appointment) as DENIED, like a refused
    read; other failures (a taken slot, an illegal status change) change nothing and
    say so to the caller."""
    try:
        yield
    except (Forbidden, NotFound):
        audit.denied(action, resource_type="Appointment", resource_id=appointment_id)
        raise
