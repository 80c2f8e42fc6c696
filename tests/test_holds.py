"""holdSlot, releaseHold, bookAppointment(holdId): one holder per slot whatever the
concurrency, a held slot taken for everyone else, and an expired hold that stops counting
with no job run."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Appointment, AuditEntry, OutboxMessage, Patient, SlotClaim, SlotHold
from domain.clock import clock
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import appointment
from tests.support.scheduling import MondayWorld, Signed, local, make_monday_world, signed_in
from tests.support.statements import counting_round_trips
from tests.support.worker import run_worker

NY = "America/New_York"
HOLD = "mutation H($input: HoldSlotInput!) { holdSlot(input: $input) { id startsAt endsAt expiresAt } }"
RELEASE = "mutation R($id: ID!) { releaseHold(id: $id) }"
BOOK = """mutation B($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status startsAt patient { name } } }"""
SLOTS = """query S($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt available } }"""
SEARCH = """query F($filter: SlotSearchInput!) {
  searchSlots(filter: $filter, first: 10) { edges { node { startsAt } } } }"""
SLOT_TAKEN = "Sorry, that time was just taken. Please choose another slot."


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> MondayWorld:
    return await make_monday_world(sessions)


def _slot(world: MondayWorld, hour: int, minute: int = 0, **extra: Any) -> dict[str, Any]:
    clinic, doctor, monday = world
    return {
        "input": {
            "doctorId": str(doctor.id),
            "clinicId": str(clinic.id),
            "startsAt": local(monday, hour, minute, NY).isoformat(),
            **extra,
        }
    }


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    """(holds, appointments, claims)."""
    async with sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(SlotHold)) or 0,
            await session.scalar(select(func.count()).select_from(Appointment)) or 0,
            await session.scalar(select(func.count()).select_from(SlotClaim)) or 0,
        )


async def _availability(client: httpx.AsyncClient, world: MondayWorld) -> list[bool]:
    _, doctor, monday = world
    body = await graphql(client, SLOTS, {"doctorId": str(doctor.id), "date": monday.isoformat()})
    return [slot["available"] for slot in body["data"]["availableSlots"]]


async def _hold(client: httpx.AsyncClient, world: MondayWorld, who: Signed, hour: int) -> str:
    body = await graphql(client, HOLD, _slot(world, hour), token=who.token)
    assert "errors" not in body, body
    return str(body["data"]["holdSlot"]["id"])


async def test_fifty_patients_race_to_hold_one_slot_and_after_expiry_another_books_it(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    racers = [await signed_in(sessions, settings, Role.PATIENT, name=f"P{n}") for n in range(50)]
    late = await signed_in(sessions, settings, Role.PATIENT, name="Late Comer")
    started = clock.now()

    bodies = await asyncio.gather(
        *(graphql(client, HOLD, _slot(world, 10), token=racer.token) for racer in racers)
    )

    outcomes = [error_codes(body) or ["OK"] for body in bodies]
    assert outcomes.count(["OK"]) == 1
    assert outcomes.count(["SLOT_UNAVAILABLE"]) == 49
    assert {body["errors"][0]["message"] for body in bodies if "errors" in body} == {SLOT_TAKEN}
    (held,) = [body["data"]["holdSlot"] for body in bodies if "errors" not in body]
    expires_at = datetime.fromisoformat(held["expiresAt"])
    assert held["startsAt"] == _slot(world, 10)["input"]["startsAt"]
    assert timedelta(minutes=10) <= expires_at - started < timedelta(minutes=10, seconds=30)
    assert await _counts(sessions) == (1, 0, 1)
    # Taken for everyone else: listed so, and refused to a booking.
    assert await _availability(client, world) == [True, True, False, True, True, True]
    refused = await graphql(client, BOOK, _slot(world, 10), token=late.token)
    assert error_codes(refused) == ["SLOT_UNAVAILABLE"]
    assert await _counts(sessions) == (1, 0, 1)

    with clock.travel_to(expires_at + timedelta(seconds=1)):
        # The cached day counted the hold: it stops saying so by itself.
        assert await _availability(client, world) == [True] * 6
        with counting_round_trips() as trips:
            booked = await graphql(client, BOOK, _slot(world, 10), token=late.token)

    assert booked["data"]["bookAppointment"]["patient"] == {"name": "Late Comer"}
    # The booking took the expired hold's time over: no job deleted it first. Its claim
    # refused the first try (one statement, nothing to roll back), so the second deleted
    # the expired holds on the time first, in a transaction.
    assert await _counts(sessions) == (0, 1, 1)
    assert [" ".join(sent.split()[:3]) for sent in trips.sent][:5] == [
        "WITH booked AS",
        "BEGIN ISOLATION LEVEL",
        "DELETE FROM slot_holds",
        "WITH booked AS",
        "COMMIT;",
    ]


async def test_the_holder_books_the_held_slot_with_its_hold(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    hold_id = await _hold(client, world, pat, 9)

    body = await graphql(client, BOOK, _slot(world, 9, holdId=hold_id), token=pat.token)

    assert body["data"]["bookAppointment"]["status"] == "SCHEDULED"
    assert await _counts(sessions) == (0, 1, 1)
    assert await _availability(client, world) == [False, True, True, True, True, True]
    async with sessions() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.resource_id).where(
                    AuditEntry.action.like("hold.%")
                )
            )
        ).all()
    assert sorted(actions) == [("hold.book", hold_id), ("hold.create", hold_id)]


async def test_a_held_slot_is_left_out_of_search(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    _, _, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    await _hold(client, world, pat, 9)
    window = {
        "from": local(monday, 0, 0, NY).isoformat(),
        "to": local(monday, 23, 0, NY).isoformat(),
    }

    body = await graphql(client, SEARCH, {"filter": window})

    starts = [edge["node"]["startsAt"] for edge in body["data"]["searchSlots"]["edges"]]
    assert starts == [_slot(world, hour, minute)["input"]["startsAt"]
                      for hour, minute in ((9, 30), (10, 0), (10, 30), (11, 0), (11, 30))]  # fmt: skip


async def test_a_patient_holds_one_slot_at_a_time(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    first = await _hold(client, world, pat, 9)
    second = await _hold(client, world, pat, 11)

    async with sessions() as session:
        assert [str(id_) for id_ in await session.scalars(select(SlotHold.id))] == [second]
    assert await _availability(client, world) == [True, True, True, True, False, True]
    # The first one is gone: it can no longer be used.
    stale = await graphql(client, BOOK, _slot(world, 9, holdId=first), token=pat.token)
    assert error_codes(stale) == ["FORBIDDEN"]
    assert await _counts(sessions) == (1, 0, 1)


async def test_releasing_a_hold_frees_the_slot_and_an_expired_one_answers_false(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    hold_id = await _hold(client, world, pat, 9)
    assert await _availability(client, world) == [False, True, True, True, True, True]

    released = await graphql(client, RELEASE, {"id": hold_id}, token=pat.token)

    assert released == {"data": {"releaseHold": True}}
    assert await _availability(client, world) == [True] * 6
    assert await _counts(sessions) == (0, 0, 0)
    late_id = await _hold(client, world, pat, 9)
    with clock.travel_to(clock.now() + timedelta(minutes=11)):
        late = await graphql(client, RELEASE, {"id": late_id}, token=pat.token)
    assert late == {"data": {"releaseHold": False}}
    assert await _counts(sessions) == (0, 0, 0)


async def test_strangers_and_doctors_cannot_touch_a_hold(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    _, doctor, _ = world
    owner = await signed_in(sessions, settings, Role.PATIENT, name="Owner")
    stranger = await signed_in(sessions, settings, Role.PATIENT, name="Stranger")
    medic = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    hold_id = await _hold(client, world, owner, 9)

    refusals = [
        await graphql(client, RELEASE, {"id": hold_id}, token=stranger.token),
        await graphql(client, RELEASE, {"id": hold_id}, token=medic.token),
        await graphql(client, BOOK, _slot(world, 9, holdId=hold_id), token=stranger.token),
        await graphql(client, HOLD, _slot(world, 10), token=medic.token),
        await graphql(client, RELEASE, {"id": "01a223ec-0000-7000-8000-000000000000"},
                      token=stranger.token),
    ]  # fmt: skip

    assert [error_codes(body) for body in refusals] == [["FORBIDDEN"]] * 5
    assert {body["errors"][0]["message"] for body in refusals} == {
        "You hold no slot with that id.",
        "Only patients and administrators may hold slots.",
    }
    async with sessions() as session:
        assert [str(id_) for id_ in await session.scalars(select(SlotHold.id))] == [hold_id]
        denied = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.outcome == "DENIED")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert denied == ["hold.release", "hold.release", "appointment.book", "hold.create",
                      "hold.release"]  # fmt: skip
    assert await _counts(sessions) == (1, 0, 1)


async def test_an_admin_holds_for_a_patient_and_releases_it(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)
    pat = await signed_in(sessions, settings, Role.PATIENT)

    unnamed = await graphql(client, HOLD, _slot(world, 9), token=admin.token)
    held = await graphql(
        client, HOLD, _slot(world, 9, patientId=str(pat.profile_id)), token=admin.token
    )
    unknown = await graphql(client, RELEASE, {"id": "01a223ec-0000-7000-8000-000000000000"},
                            token=admin.token)  # fmt: skip
    released = await graphql(
        client, RELEASE, {"id": held["data"]["holdSlot"]["id"]}, token=admin.token
    )

    assert error_codes(unnamed) == ["BAD_USER_INPUT"]
    assert error_codes(unknown) == ["NOT_FOUND"]
    assert released == {"data": {"releaseHold": True}}
    assert await _counts(sessions) == (0, 0, 0)


@pytest.mark.parametrize(
    ("variables", "code", "message"),
    [
        ({"startsAt": "2031-01-06T09:15:00-05:00"}, "SLOT_UNAVAILABLE",
         "That time is not a slot of the doctor's schedule at this clinic."),
        ({"doctorId": "not-an-id"}, "BAD_USER_INPUT", "input.doctorId: not a valid ID"),
        ({"clinicId": "01a223ec-0000-7000-8000-000000000000"}, "BAD_USER_INPUT",
         "That doctor does not work at that clinic."),
        ({"startsAt": "2031-01-06T09:00:00"}, "BAD_USER_INPUT",
         "input.startsAt: not a valid date and time in ISO 8601 form with a UTC offset, "
         "e.g. 2026-03-02T09:00:00-05:00"),
    ],
)  # fmt: skip
async def test_bad_holds_are_refused_and_change_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld, variables: dict[str, str], code: str, message: str,
) -> None:  # fmt: skip
    pat = await signed_in(sessions, settings, Role.PATIENT)
    asked = _slot(world, 9)
    asked["input"].update(variables)

    body = await graphql(client, HOLD, asked, token=pat.token)

    assert error_codes(body) == [code]
    assert body["errors"][0]["message"] == message
    assert await _counts(sessions) == (0, 0, 0)


async def test_a_hold_for_another_slot_or_patient_books_nothing(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)
    pat = await signed_in(sessions, settings, Role.PATIENT)
    other = await signed_in(sessions, settings, Role.PATIENT, name="Other")
    hold_id = await _hold(client, world, pat, 9)

    elsewhere = await graphql(client, BOOK, _slot(world, 10, holdId=hold_id), token=pat.token)
    for_other = await graphql(
        client, BOOK, _slot(world, 9, holdId=hold_id, patientId=str(other.profile_id)),
        token=admin.token,
    )  # fmt: skip
    bad_id = await graphql(client, BOOK, _slot(world, 9, holdId="nope"), token=pat.token)

    assert [error_codes(b) for b in (elsewhere, for_other, bad_id)] == [["BAD_USER_INPUT"]] * 3
    assert [b["errors"][0]["message"] for b in (elsewhere, for_other, bad_id)] == [
        "That hold is for another slot: book its doctor, clinic and startsAt.",
        "That hold is another patient's.",
        "input.holdId: not a valid ID",
    ]
    assert await _counts(sessions) == (1, 0, 1)


async def test_postgresql_refuses_an_appointment_over_a_live_hold_whoever_writes_it(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    clinic, doctor, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    await _hold(client, world, pat, 9)

    async def insert_over_the_hold() -> None:
        async with sessions.begin() as session:
            patient = await session.get_one(Patient, pat.profile_id)
            starts_at = local(monday, 9, 15, NY)
            session.add(
                appointment(doctor=doctor, patient=patient, clinic=clinic, starts_at=starts_at)
            )

    with pytest.raises(IntegrityError, match="ex_slot_claims_doctor_no_overlap"):
        await insert_over_the_hold()

    assert await _counts(sessions) == (1, 0, 1)


async def test_the_end_of_a_hold_is_announced_for_when_it_expires(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    worker_settings: Settings,
    redis: Redis,
    world: MondayWorld,
) -> None:
    _, doctor, _ = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    body = await graphql(client, HOLD, _slot(world, 9), token=pat.token)
    expires_at = datetime.fromisoformat(body["data"]["holdSlot"]["expiresAt"])
    async with sessions() as session:
        rows = (
            await session.execute(select(OutboxMessage.topic, OutboxMessage.payload,
                                         OutboxMessage.available_at))
        ).all()  # fmt: skip
    assert rows == [("slot_hold_expired", {"doctor_id": str(doctor.id)}, expires_at)]
    stamp = await redis.get(f"slots:booked:{doctor.id}")

    # Not due yet by the system's clock; when it is, the job restamps the doctor's days
    # (what tells those watching them that the slot is free).
    assert await run_worker(worker_settings, sessions) == 0
    async with sessions.begin() as session:
        await session.execute(update(OutboxMessage).values(available_at=func.now()))
    assert await run_worker(worker_settings, sessions) == 1

    assert int(await redis.get(f"slots:booked:{doctor.id}")) > int(stamp)


async def test_holds_and_bookings_racing_for_one_slot_have_one_winner(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    racers = [await signed_in(sessions, settings, Role.PATIENT, name=f"P{n}") for n in range(40)]

    bodies = await asyncio.gather(
        *(
            graphql(client, HOLD if n % 2 else BOOK, _slot(world, 10), token=racer.token)
            for n, racer in enumerate(racers)
        )
    )

    outcomes = [error_codes(body) or ["OK"] for body in bodies]
    assert outcomes.count(["OK"]) == 1
    assert outcomes.count(["SLOT_UNAVAILABLE"]) == 39
    holds, appointments, claims = await _counts(sessions)
    assert (holds + appointments, claims) == (1, 1)


async def test_racers_for_an_expired_hold_take_it_over_once(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    first = await signed_in(sessions, settings, Role.PATIENT, name="First")
    racers = [await signed_in(sessions, settings, Role.PATIENT, name=f"P{n}") for n in range(20)]
    body = await graphql(client, HOLD, _slot(world, 10), token=first.token)
    expires_at = datetime.fromisoformat(body["data"]["holdSlot"]["expiresAt"])

    with clock.travel_to(expires_at + timedelta(seconds=1)):
        bodies = await asyncio.gather(
            *(graphql(client, HOLD, _slot(world, 10), token=racer.token) for racer in racers)
        )

    outcomes = [error_codes(body) or ["OK"] for body in bodies]
    assert (outcomes.count(["OK"]), outcomes.count(["SLOT_UNAVAILABLE"])) == (1, 19)
    async with sessions() as session:
        holders = (await session.scalars(select(SlotHold.patient_id))).all()
    (winner,) = [racer for racer, o in zip(racers, outcomes, strict=True) if o == ["OK"]]
    assert holders == [winner.profile_id]
    assert await _counts(sessions) == (1, 0, 1)


async def test_a_hold_lasts_its_minutes_by_the_domains_clock_on_any_day(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    calendar_now: datetime,
) -> None:
    world = await make_monday_world(sessions)
    holder = await signed_in(sessions, settings, Role.PATIENT, name="Holder")
    other = await signed_in(sessions, settings, Role.PATIENT, name="Other")
    body = await graphql(client, HOLD, _slot(world, 9), token=holder.token)
    expires_at = datetime.fromisoformat(body["data"]["holdSlot"]["expiresAt"])
    assert timedelta(minutes=10) <= expires_at - calendar_now < timedelta(minutes=11)

    with clock.travel_to(expires_at - timedelta(seconds=5)):
        still_held = await graphql(client, BOOK, _slot(world, 9), token=other.token)
    with clock.travel_to(expires_at + timedelta(seconds=1)):
        free = await _availability(client, world)
        booked = await graphql(client, BOOK, _slot(world, 9), token=other.token)

    assert error_codes(still_held) == ["SLOT_UNAVAILABLE"]
    assert free == [True] * 6
    assert booked["data"]["bookAppointment"]["patient"] == {"name": "Other"}
    assert await _counts(sessions) == (0, 1, 1)
