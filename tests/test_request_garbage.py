"""A request's objects go with their last reference: none is left for the cycle
collector, whose pauses were what a cache hit's p99 was made of (docs/performance.md,
"Garbage")."""

import gc
import uuid
from collections import Counter
from typing import Any, cast

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from schema.context import Context
from schema.fast_executor.executor import FastExecutor
from services.settings import Settings
from tests.support.api import graphql
from tests.support.scheduling import MondayWorld, local, make_monday_world, signed_in

DAY = """
query Day($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available clinic { id } }
}
"""
BOOK = """
mutation Book($input: BookAppointmentInput!) { bookAppointment(input: $input) { id status startsAt } }
"""


async def _ask(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str, request_id: str
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
    )
    answer: dict[str, Any] = response.json()
    return answer


def _request_id(thing: object) -> str | None:
    """The request a per-request object served (other tests' stragglers do not count)."""
    # By type(), not isinstance(): the collector's garbage holds any leftovers of the
    # process, among them weakref proxies (botocore's, to a closed S3 client's parts) whose
    # referent is gone; isinstance() asks a proxy its __class__: ReferenceError.
    executor = issubclass(type(thing), FastExecutor)
    context = cast("FastExecutor", thing).context_value if executor else thing
    return cast("Context", context).request_id if issubclass(type(context), Context) else None


async def test_requests_leave_nothing_for_the_cycle_collector(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    world: MondayWorld = await make_monday_world(sessions)
    clinic, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    day = {"doctorId": str(doctor.id), "date": monday.isoformat()}
    booking = {
        "input": {
            "doctorId": str(doctor.id),
            "clinicId": str(clinic.id),
            "startsAt": local(monday, 11, 0, "America/New_York").isoformat(),
        }
    }
    await graphql(client, DAY, day, token=patient.token)  # the day cached, the process warm
    mine = [f"garbage-{uuid.uuid4().hex[:12]}-{n}" for n in range(4)]

    gc.collect()
    gc.disable()
    try:
        answers = [await _ask(client, DAY, day, patient.token, mine[n]) for n in range(3)]
        booked = await _ask(client, BOOK, booking, patient.token, mine[3])
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        kept = [o for o in gc.garbage if _request_id(o) in mine]
        left = Counter((type(o).__name__, _request_id(o)) for o in kept)
        # Should one be left: what held it, to find the cycle.
        held_by = {
            _request_id(o): sorted({type(r).__name__ for r in gc.get_referrers(o)}) for o in kept
        }
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    assert [len(answer["data"]["availableSlots"]) for answer in answers] == [6, 6, 6]
    assert booked["data"]["bookAppointment"]["status"] == "SCHEDULED"
    assert left == Counter(), held_by
