"""availableSlots through the API: time zones, batching, the cache and its race."""

import asyncio
from datetime import date, time, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from services.settings import Settings
from services.slot_cache import SlotCache
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic, add_doctor
from tests.support.scheduling import (
    add_template,
    clinic_with_doctor,
    local,
    next_weekday,
    signed_in,
)
from tests.support.statements import counting_statements

SLOTS = """
query Slots($doctorId: ID!, $date: Date!, $clinicId: ID) {
  availableSlots(doctorId: $doctorId, date: $date, clinicId: $clinicId) {
    startsAt endsAt available clinic { name }
  }
}
"""
BOOK = """
mutation Book($input: BookAppointmentInput!) { bookAppointment(input: $input) { id status } }
"""


@pytest.mark.parametrize(
    ("zone", "day", "starts"),
    [
        (  # spring forward: 02:00-03:00 does not exist
            "America/New_York",
            date(2026, 3, 8),
            ["00:30-05:00", "01:00-05:00", "01:30-05:00", "03:00-04:00", "03:30-04:00"],
        ),
        (  # fall back: 01:00-02:00 happens twice; the first pass only, no overlaps
            "America/New_York",
            date(2026, 11, 1),
            [
                "00:30-04:00",
                "01:00-04:00",
                "01:30-04:00",
                "02:00-05:00",
                "02:30-05:00",
                "03:00-05:00",
                "03:30-05:00",
            ],
        ),
        (
            "Europe/Berlin",
            date(2026, 3, 29),
            ["00:30+01:00", "01:00+01:00", "01:30+01:00", "03:00+02:00", "03:30+02:00"],
        ),
    ],
)
async def test_slots_across_daylight_saving_changes(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    zone: str,
    day: date,
    starts: list[str],
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions, zone)
    await add_template(sessions, doctor, clinic, day.isoweekday(), time(0, 30), time(4, 0))

    body = await graphql(client, SLOTS, {"doctorId": str(doctor.id), "date": day.isoformat()})

    slots = body["data"]["availableSlots"]
    assert [s["startsAt"] for s in slots] == [
        f"{day.isoformat()}T{s[:5]}:00{s[5:]}" for s in starts
    ]
    # Past dates: nothing is bookable any more.
    assert {s["available"] for s in slots} == {False}
    for slot in slots:
        start, end = (
            __import__("datetime").datetime.fromisoformat(slot[key])
            for key in ("startsAt", "endsAt")
        )
        assert (end - start).total_seconds() == 30 * 60


async def test_slots_of_a_future_day_with_a_booking_and_an_exception(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    monday = next_weekday(1)
    await add_template(sessions, doctor, clinic, 1, time(9), time(11))
    pat = await signed_in(sessions, settings, Role.PATIENT)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    booked = await graphql(
        client,
        BOOK,
        {"input": {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
                   "startsAt": local(monday, 9, 30, "America/New_York").isoformat()}},
        token=pat.token,
    )  # fmt: skip
    away = await graphql(
        client,
        """mutation Away($input: ScheduleExceptionInput!) { addScheduleException(input: $input) { id } }""",
        {"input": {"doctorId": str(doctor.id),
                   "startsAt": local(monday, 10, 15, "America/New_York").isoformat(),
                   "endsAt": local(monday, 10, 45, "America/New_York").isoformat()}},
        token=admin.token,
    )  # fmt: skip
    assert "errors" not in booked
    assert "errors" not in away

    body = await graphql(client, SLOTS, {"doctorId": str(doctor.id), "date": monday.isoformat()})

    offset = local(monday, 9, 0, "America/New_York").isoformat()[-6:]
    assert [(s["startsAt"], s["available"]) for s in body["data"]["availableSlots"]] == [
        (f"{monday}T09:00:00{offset}", True),
        (f"{monday}T09:30:00{offset}", False),  # booked
        (f"{monday}T10:00:00{offset}", False),  # the exception starts inside it
        (f"{monday}T10:30:00{offset}", False),  # the exception ends inside it
    ]
    assert {s["clinic"]["name"] for s in body["data"]["availableSlots"]} == {"Riverside"}


async def test_unknown_doctor_is_not_found(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client, SLOTS, {"doctorId": "01a223ec-0000-7000-8000-000000000000", "date": "2030-01-07"}
    )

    assert body["data"] is None
    assert error_codes(body) == ["NOT_FOUND"]


async def test_twenty_doctors_cost_the_statements_of_one(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    monday = next_weekday(1)
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        doctors = [await add_doctor(session, f"Dr {n}", clinics=(clinic,)) for n in range(20)]
    for doctor in doctors:
        await add_template(sessions, doctor, clinic, 1, time(9), time(12))
    query = """query D($first: Int, $date: Date!) { doctors(first: $first) {
        edges { node { name availableSlots(date: $date) { startsAt available } } } } }"""

    # Warm the process's clinic directory (a new clinic costs one statement, once).
    await graphql(client, "query W($id: ID!, $date: Date!) { availableSlots(doctorId: $id, date: $date) { clinic { id } } }",
                  {"id": str(doctors[0].id), "date": (monday + timedelta(days=7)).isoformat()})  # fmt: skip
    with counting_statements() as one:
        await graphql(client, query, {"first": 1, "date": monday.isoformat()})
    with counting_statements() as twenty:
        body = await graphql(client, query, {"first": 20, "date": monday.isoformat()})

    nodes = [edge["node"] for edge in body["data"]["doctors"]["edges"]]
    assert len(nodes) == 20
    # The 19 doctors not in the first request miss the cache: still one statement for all.
    assert [len(node["availableSlots"]) for node in nodes] == [6] * 20
    assert one.count == twenty.count == 2  # the page, then every doctor's day at once


async def test_a_cached_day_costs_no_slot_statement_and_a_booking_invalidates_it(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    monday = next_weekday(1)
    await add_template(sessions, doctor, clinic, 1, time(9), time(10))
    pat = await signed_in(sessions, settings, Role.PATIENT)
    variables = {"doctorId": str(doctor.id), "date": monday.isoformat()}

    with counting_statements() as miss:
        first = await graphql(client, SLOTS, variables)
    with counting_statements() as hit:
        second = await graphql(client, SLOTS, variables)
    await graphql(
        client,
        BOOK,
        {"input": {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
                   "startsAt": local(monday, 9, 0, "America/New_York").isoformat()}},
        token=pat.token,
    )  # fmt: skip
    after_booking = await graphql(client, SLOTS, variables)

    # The day and the new clinic on the miss; nothing at all on the hit.
    assert (miss.count, hit.count) == (2, 0)
    assert first == second
    assert [s["available"] for s in first["data"]["availableSlots"]] == [True, True]
    assert [s["available"] for s in after_booking["data"]["availableSlots"]] == [False, True]


async def test_a_read_that_began_before_a_booking_cannot_repopulate_the_cache(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    monday = next_weekday(1)
    await add_template(sessions, doctor, clinic, 1, time(9), time(9, 30))
    pat = await signed_in(sessions, settings, Role.PATIENT)
    variables = {"doctorId": str(doctor.id), "date": monday.isoformat()}

    # Hold the slow read between computing its answer and storing it.
    computed, release = asyncio.Event(), asyncio.Event()
    store = SlotCache.store

    async def held_store(self: SlotCache, days: object) -> None:
        computed.set()
        await release.wait()
        await store(self, days)  # type: ignore[arg-type]

    monkeypatch.setattr(SlotCache, "store", held_store)
    slow_read = asyncio.create_task(graphql(client, SLOTS, variables))
    await asyncio.wait_for(computed.wait(), timeout=30)
    monkeypatch.setattr(SlotCache, "store", store)

    booked = await graphql(
        client,
        BOOK,
        {"input": {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
                   "startsAt": local(monday, 9, 0, "America/New_York").isoformat()}},
        token=pat.token,
    )  # fmt: skip
    release.set()
    stale = await slow_read
    fresh = await graphql(client, SLOTS, variables)

    assert "errors" not in booked
    # The slow read saw the world before the commit, and may say so ...
    assert [s["available"] for s in stale["data"]["availableSlots"]] == [True]
    # ... but what it stored is never served once the booking has committed.
    assert [s["available"] for s in fresh["data"]["availableSlots"]] == [False]
