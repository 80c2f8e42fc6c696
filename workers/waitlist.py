"""arq jobs of the waitlist: message an offer, and pass on one that was not accepted."""

import uuid
from typing import Any

from arq import Retry

from domain.audit import AuditTrail
from domain.clock import clock
from domain.offer_messages import plan_offer_messages
from domain.waitlist_offers import OfferNotDue, expire_offer
from services.slot_cache import SlotCache
from workers.notifications import enqueue_sends


async def waitlist_offered(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    async with ctx["sessions"].begin() as session:
        ready = await plan_offer_messages(session, uuid.UUID(payload["entry_id"]), clock.now())
    await enqueue_sends(ctx["redis"], ready)


async def waitlist_offer_expired(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    """Runs when the offer expires (the outbox row is due then); running it again, or
    after the patient answered, changes nothing."""
    try:
        async with ctx["sessions"].begin() as session:
            outcome = await expire_offer(
                session,
                uuid.UUID(payload["entry_id"]),
                clock.now(),
                ctx["settings"].offer_minutes,
            )
    except OfferNotDue as early:
        raise Retry(defer=early.seconds + 1) from early
    if outcome is None:
        return "answered already"
    expired, following = outcome
    # The hold is gone, or another patient's: cached days must say which.
    await SlotCache(ctx["redis"]).invalidate([expired.doctor_id], bookings_only=True)
    # Changed by the clock, on nobody's behalf: no actor, the job for a request id.
    trail = AuditTrail(caller=None, ip=None, request_id=str(ctx.get("job_id", "")))
    for action, entry in (("waitlist.expire", expired), ("waitlist.offer", following)):
        if entry is not None:
            trail.allowed(
                action,
                patient_id=entry.patient_id,
                resource_type="WaitlistEntry",
                resource_id=entry.id,
            )
    await trail.flush(ctx["sessions"])
    return "offered to the next entry" if following is not None else "nobody else waits"
