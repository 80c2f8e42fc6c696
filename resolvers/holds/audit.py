"""Every change to a hold or waitlist entry is audited, and so is every refusal to see one."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from db.models import SlotHold, WaitlistEntry
from domain.audit import AuditTrail
from services.errors import Forbidden, NotFound


@asynccontextmanager
async def audited(
    audit: AuditTrail, action: str, resource_type: str, resource_id: uuid.UUID | None = None
) -> AsyncIterator[None]:
    """Records a refusal (not yours, or no such thing) as DENIED; other failures (a
    taken slot, an expired offer) change nothing and say so to the caller."""
    try:
        yield
    except (Forbidden, NotFound):
        audit.denied(action, resource_type=resource_type, resource_id=resource_id)
        raise


def hold_changed(audit: AuditTrail, action: str, hold: SlotHold) -> None:
    audit.allowed(action, patient_id=hold.patient_id, resource_type="SlotHold", resource_id=hold.id)


def entry_changed(audit: AuditTrail, action: str, entry: WaitlistEntry) -> None:
    audit.allowed(
        action, patient_id=entry.patient_id, resource_type="WaitlistEntry", resource_id=entry.id
    )
