"""A request's objects go with their last reference: none is left for the cycle
collector, whose pauses were what a cache hit's p99 was made of (docs/performance.md,
"Garbage")."""

import gc
from collections import Counter

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from loaders.registry import Loaders
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
PER_REQUEST = (Context, FastExecutor, Loaders)


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

    gc.collect()
    gc.disable()
    try:
        answers = [await graphql(client, DAY, day, token=patient.token) for _ in range(3)]
        booked = await graphql(client, BOOK, booking, token=patient.token)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = Counter(type(o).__name__ for o in gc.garbage if isinstance(o, PER_REQUEST))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    assert [len(answer["data"]["availableSlots"]) for answer in answers] == [6, 6, 6]
    assert booked["data"]["bookAppointment"]["status"] == "SCHEDULED"
    assert left == Counter()
