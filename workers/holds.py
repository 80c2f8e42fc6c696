"""arq job of holds: the end of one, told to the slot cache."""

import uuid
from typing import Any

from services.slot_cache import SlotCache


async def slot_hold_expired(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """Cached days already stop counting the hold by themselves; restamping them after
    it expired is what tells those who watch the doctor's slots. Harmless if the hold
    was booked or released before: the days are computed once more."""
    await SlotCache(ctx["redis"]).invalidate([uuid.UUID(payload["doctor_id"])], bookings_only=True)
