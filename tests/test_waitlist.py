"""The waitlist: a freed slot is offered to the earliest waiting patient (held for them and
messaged), passes on when the offer lapses or is declined, and is booked on acceptance."""

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Appointment, AuditEntry, OutboxMessage, SlotHold, User
from domain.clock import clock
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import add_doctor
from tests.support.notifications import PHONE, patient_with_phone
from tests.support.providers import FakeSendGrid, FakeTwilio
from tests.support.scheduling import (
    MondayWorld,
    Signed,
    book_via_api,
    local,
    make_monday_world,
    signed_in,
)
from tests.support.worker import queue, run_worker

NY = "America/New_York"
JOIN = """mutation J($input: WaitlistInput!) {
  joinWaitlist(input: $input) { id status from to offer { startsAt } doctor { name } } }"""
LEAVE = "mutation L($id: ID!) { leaveWaitlist(id: $id) }"
ACCEPT = """mutation A($id: ID!) {
  acceptWaitlistOffer(id: $id) { status startsAt patient { id } } }"""
CANCEL = "mutation C($id: ID!) { cancelAppointment(id: $id) { status } }"
WAITLIST = """query W($id: ID!) {
  patient(id: $id) { waitlist { id status offer { startsAt endsAt expiresAt } } } }"""
BOOK = """mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"""
ADD_EXCEPTION = """mutation E($input: ScheduleExceptionInput!) {
  addScheduleException(input: $input) { id } }"""
REMOVE_EXCEPTION = "mutation R($id: ID!) { removeScheduleException(id: $id) }"


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> MondayWorld:
    return await make_monday_world(sessions)


def _at(world: MondayWorld, hour: int, minute: int = 0) -> str:
    return local(world[2], hour, minute, NY).isoformat()


async def _join(
    client: httpx.AsyncClient, world: MondayWorld, who: Signed, start: int = 9, end: int = 12
) -> str:
    clinic, doctor, _ = world
    body = await graphql(
        client,
        JOIN,
        {"input": {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
                   "from": _at(world, start), "to": _at(world, end)}},
        token=who.token,
    )  # fmt: skip
    assert body["data"]["joinWaitlist"]["status"] == "WAITING", body
    return str(body["data"]["joinWaitlist"]["id"])


async def _waitlist(client: httpx.AsyncClient, who: Signed) -> list[dict[str, Any]]:
    body = await graphql(client, WAITLIST, {"id": str(who.profile_id)}, token=who.token)
    entries: list[dict[str, Any]] = body["data"]["patient"]["waitlist"]
    return entries


async def _status(client: httpx.AsyncClient, who: Signed) -> tuple[str, str | None]:
    """(status, offered start) of the patient's only entry."""
    (entry,) = await _waitlist(client, who)
    return entry["status"], entry["offer"] and entry["offer"]["startsAt"]


async def _holds(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[uuid.UUID | None, datetime]]:
    """(patient, start) of every hold."""
    async with sessions() as session:
        rows = await session.execute(
            select(SlotHold.patient_id, SlotHold.starts_at).order_by(SlotHold.starts_at)
        )
        return [(patient, starts_at) for patient, starts_at in rows.all()]


async def _appointments(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Appointment)) or 0


async def _offer_expiries_due(sessions: async_sessionmaker[AsyncSession]) -> None:
    """What the relay does when an offer's expiry comes, by the system's clock: here the
    domain's clock was moved past it instead."""
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.topic == "waitlist_offer_expired",
                OutboxMessage.published_at.is_(None),
            )
            .values(available_at=func.now())
        )


async def _cancelled_with_two_waiting(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> tuple[Signed, Signed, Signed]:
    """A booker whose 10:00 is cancelled after two patients joined the waitlist."""
    clinic, doctor, monday = world
    booker = await signed_in(sessions, settings, Role.PATIENT, name="Booker")
    first = await patient_with_phone(sessions, settings)
    second = await patient_with_phone(sessions, settings)
    booked = await book_via_api(client, clinic, doctor, local(monday, 10, 0, NY), booker)
    await _join(client, world, first)
    await _join(client, world, second)
    body = await graphql(client, CANCEL, {"id": booked}, token=booker.token)
    assert body == {"data": {"cancelAppointment": {"status": "CANCELLED"}}}
    return booker, first, second


async def test_a_cancelled_slot_is_offered_to_the_first_waiting_patient_and_messaged(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid, world: MondayWorld,
) -> None:  # fmt: skip
    started = clock.now()
    _, first, second = await _cancelled_with_two_waiting(client, sessions, settings, world)

    (offered,) = await _waitlist(client, first)
    assert offered["status"] == "OFFERED"
    assert (offered["offer"]["startsAt"], offered["offer"]["endsAt"]) == (
        _at(world, 10), _at(world, 10, 30),
    )  # fmt: skip
    until = datetime.fromisoformat(offered["offer"]["expiresAt"])
    assert timedelta(minutes=15) <= until - started < timedelta(minutes=15, seconds=30)
    assert await _status(client, second) == ("WAITING", None)
    # Held for the first: the second cannot book it.
    taken = await graphql(
        client, BOOK,
        {"input": {"doctorId": str(world[1].id), "clinicId": str(world[0].id),
                   "startsAt": _at(world, 10)}},
        token=second.token,
    )  # fmt: skip
    assert error_codes(taken) == ["SLOT_UNAVAILABLE"]

    # The booking, the cancellation and the offer.
    assert await run_worker(worker_settings, sessions) == 3

    starts = local(world[2], 10, 0, NY)
    local_until = until.astimezone(starts.tzinfo)
    assert [(m.to, m.body) for m in twilio.messages] == [
        (PHONE, f"A slot has opened up: {starts:%A %d %B %Y} at 10:00 ({starts:%Z}) with "
                f"Dr. Ada Grey at Riverside. It is held for you until {local_until:%H:%M} "
                f"({local_until:%Z}): accept it in the app."),
    ]  # fmt: skip
    async with sessions() as session:
        email = await session.scalar(select(User.email).where(User.id == first.user_id))
    offers = [m for m in sendgrid.messages if m.subject.startswith("A slot has opened up")]
    assert [m.to for m in offers] == [(email,)]


async def test_an_offer_not_accepted_in_time_passes_to_the_next_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, world: MondayWorld,
) -> None:  # fmt: skip
    _, first, second = await _cancelled_with_two_waiting(client, sessions, settings, world)
    (offered,) = await _waitlist(client, first)
    until = datetime.fromisoformat(offered["offer"]["expiresAt"])
    await run_worker(worker_settings, sessions)
    (first_entry,) = [entry["id"] for entry in await _waitlist(client, first)]

    with clock.travel_to(until + timedelta(seconds=1)):
        # Expired at once, before any job: and the slot is no longer held for them.
        assert await _status(client, first) == ("EXPIRED", _at(world, 10))
        await _offer_expiries_due(sessions)
        await run_worker(worker_settings, sessions)
        after_job = (await _status(client, first), await _status(client, second))
        # The job again (a duplicate, or a retry): nothing changes.
        pool = await queue(worker_settings)
        await pool.enqueue_job("waitlist_offer_expired", {"entry_id": first_entry}, _job_id="again")
        await pool.aclose()
        await run_worker(worker_settings, sessions)
        again = (await _status(client, first), await _status(client, second))

    assert after_job == again == (("EXPIRED", _at(world, 10)), ("OFFERED", _at(world, 10)))
    assert await _holds(sessions) == [(second.profile_id, local(world[2], 10, 0, NY))]
    async with sessions() as session:
        by_job = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.patient_id, AuditEntry.actor_user_id)
                .where(AuditEntry.request_id.like("outbox:%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert by_job == [
        ("waitlist.expire", first.profile_id, None),
        ("waitlist.offer", second.profile_id, None),
    ]
    offer_texts = [m for m in twilio.messages if m.body.startswith("A slot has opened up")]
    assert len(offer_texts) == 2  # the first patient's, then the second's


async def test_accepting_an_offer_books_the_slot(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    _, first, second = await _cancelled_with_two_waiting(client, sessions, settings, world)
    (entry,) = await _waitlist(client, first)

    stranger = await graphql(client, ACCEPT, {"id": entry["id"]}, token=second.token)
    assert error_codes(stranger) == ["FORBIDDEN"]
    assert await _status(client, first) == ("OFFERED", _at(world, 10))
    accepted = await graphql(client, ACCEPT, {"id": entry["id"]}, token=first.token)
    again = await graphql(client, ACCEPT, {"id": entry["id"]}, token=first.token)

    assert accepted["data"]["acceptWaitlistOffer"] == {
        "status": "SCHEDULED", "startsAt": _at(world, 10), "patient": {"id": str(first.profile_id)},
    }  # fmt: skip
    assert await _status(client, first) == ("BOOKED", _at(world, 10))
    assert await _status(client, second) == ("WAITING", None)
    assert error_codes(again) == ["CONFLICT"]
    assert again["errors"][0]["message"] == "This entry has no open offer; it is BOOKED."
    assert await _holds(sessions) == []
    assert await _appointments(sessions) == 2  # the cancelled one and this
    async with sessions() as session:
        audited = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.outcome)
                .where(AuditEntry.action.like("waitlist.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(action, outcome.value) for action, outcome in audited] == [
        ("waitlist.join", "ALLOWED"),
        ("waitlist.join", "ALLOWED"),
        ("waitlist.offer", "ALLOWED"),
        ("waitlist.accept", "DENIED"),
        ("waitlist.accept", "ALLOWED"),
    ]


async def test_two_slots_freed_at_once_go_to_two_patients(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    bookers = [await signed_in(sessions, settings, Role.PATIENT, name=f"B{n}") for n in range(2)]
    ids = [
        await book_via_api(client, clinic, doctor, local(monday, 10, minute, NY), booker)
        for minute, booker in zip((0, 30), bookers, strict=True)
    ]
    waiting = [await patient_with_phone(sessions, settings) for _ in range(3)]
    for patient in waiting:
        await _join(client, world, patient)

    bodies = await asyncio.gather(
        *(
            graphql(client, CANCEL, {"id": id_}, token=b.token)
            for id_, b in zip(ids, bookers, strict=True)
        )
    )

    assert [error_codes(body) for body in bodies] == [[], []]
    statuses = [await _status(client, patient) for patient in waiting]
    assert sorted(statuses[:2]) == [("OFFERED", _at(world, 10)), ("OFFERED", _at(world, 10, 30))]
    assert statuses[2] == ("WAITING", None)
    assert sorted(str(patient) for patient, _ in await _holds(sessions)) == sorted(
        str(patient.profile_id) for patient in waiting[:2]
    )


async def test_leaving_with_an_offer_passes_it_on(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    _, first, second = await _cancelled_with_two_waiting(client, sessions, settings, world)
    (entry,) = await _waitlist(client, first)

    stranger = await graphql(client, LEAVE, {"id": entry["id"]}, token=second.token)
    assert error_codes(stranger) == ["FORBIDDEN"]
    assert await _status(client, first) == ("OFFERED", _at(world, 10))
    left = await graphql(client, LEAVE, {"id": entry["id"]}, token=first.token)
    again = await graphql(client, LEAVE, {"id": entry["id"]}, token=first.token)

    assert (left, again) == ({"data": {"leaveWaitlist": True}}, {"data": {"leaveWaitlist": False}})
    assert await _status(client, first) == ("LEFT", _at(world, 10))
    assert await _status(client, second) == ("OFFERED", _at(world, 10))
    assert await _holds(sessions) == [(second.profile_id, local(world[2], 10, 0, NY))]


async def test_slots_back_from_an_exception_go_to_those_waiting(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    admin = await signed_in(sessions, settings, Role.ADMIN)
    away = await graphql(
        client, ADD_EXCEPTION,
        {"input": {"doctorId": str(world[1].id), "startsAt": _at(world, 9),
                   "endsAt": _at(world, 10), "reason": "Training"}},
        token=admin.token,
    )  # fmt: skip
    early, late, elsewhere = [await patient_with_phone(sessions, settings) for _ in range(3)]
    await _join(client, world, early)
    await _join(client, world, late)
    await _join(client, world, elsewhere, start=11)  # a window the exception did not touch

    removed = await graphql(
        client, REMOVE_EXCEPTION, {"id": away["data"]["addScheduleException"]["id"]},
        token=admin.token,
    )  # fmt: skip

    assert removed == {"data": {"removeScheduleException": True}}
    assert await _status(client, early) == ("OFFERED", _at(world, 9))
    assert await _status(client, late) == ("OFFERED", _at(world, 9, 30))
    assert await _status(client, elsewhere) == ("WAITING", None)


async def test_refusals_change_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    clinic, doctor, _ = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    medic = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    entry = await _join(client, world, pat)

    def join(**fields: str) -> dict[str, Any]:
        base = {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
                "from": _at(world, 9), "to": _at(world, 12)}  # fmt: skip
        return {"input": {**base, **fields}}

    answers = [
        await graphql(client, ACCEPT, {"id": entry}, token=pat.token),
        await graphql(client, JOIN, join(), token=medic.token),
        await graphql(client, JOIN, join(to=_at(world, 9)), token=pat.token),
        await graphql(client, JOIN, join(to=local(world[2] + timedelta(days=40), 9, 0, NY).isoformat()),
                      token=pat.token),
        await graphql(client, JOIN, join(**{"from": "2020-01-01T09:00:00Z", "to": "2020-01-02T09:00:00Z"}),
                      token=pat.token),
        await graphql(client, JOIN, join(clinicId="01a223ec-0000-7000-8000-000000000000"), token=pat.token),
        await graphql(client, ACCEPT, {"id": "01a223ec-0000-7000-8000-000000000000"}, token=pat.token),
    ]  # fmt: skip

    assert [(error_codes(a), a["errors"][0]["message"]) for a in answers] == [
        (["CONFLICT"], "This entry has no open offer; it is WAITING."),
        (["FORBIDDEN"], "Only patients and administrators may join waitlists."),
        (["BAD_USER_INPUT"], "`to` must be after `from`."),
        (["BAD_USER_INPUT"], "`from` and `to` may be at most 31 days apart."),
        (["BAD_USER_INPUT"], "`to` has passed already."),
        (["BAD_USER_INPUT"], "That doctor does not work at that clinic."),
        (["FORBIDDEN"], "You have no waitlist entry with that id."),
    ]
    assert [entry["status"] for entry in await _waitlist(client, pat)] == ["WAITING"]
    assert await _holds(sessions) == []
    assert await _appointments(sessions) == 0


async def test_an_expired_offer_cannot_be_accepted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    _, first, _ = await _cancelled_with_two_waiting(client, sessions, settings, world)
    (entry,) = await _waitlist(client, first)
    until = datetime.fromisoformat(entry["offer"]["expiresAt"])

    with clock.travel_to(until + timedelta(seconds=1)):
        late = await graphql(client, ACCEPT, {"id": entry["id"]}, token=first.token)

    assert error_codes(late) == ["CONFLICT"]
    assert late["errors"][0]["message"] == "This offer has expired."
    assert await _appointments(sessions) == 1  # the cancelled one only


async def test_a_doctor_sees_only_their_own_waitlist_of_a_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    async with sessions.begin() as session:
        colleague = await add_doctor(session, "Dr. Bo Lee", clinics=(clinic,))
    pat = await signed_in(sessions, settings, Role.PATIENT)
    medic = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    await book_via_api(client, clinic, doctor, local(monday, 11, 0, NY), pat)
    await _join(client, world, pat, start=9, end=10)
    await _join(client, (clinic, colleague, monday), pat, start=9, end=10)
    query = "query W($id: ID!) { patient(id: $id) { waitlist { status doctor { name } } } }"

    own = await graphql(client, query, {"id": str(pat.profile_id)}, token=pat.token)
    seen = await graphql(client, query, {"id": str(pat.profile_id)}, token=medic.token)

    assert [e["doctor"]["name"] for e in own["data"]["patient"]["waitlist"]] == [
        "Dr. Bo Lee", "Dr. Ada Grey",
    ]  # fmt: skip
    assert seen["data"]["patient"]["waitlist"] == [
        {"status": "WAITING", "doctor": {"name": "Dr. Ada Grey"}}
    ]
    async with sessions() as session:
        reads = (
            await session.scalars(
                select(AuditEntry.actor_role).where(AuditEntry.action == "patient.waitlist.read")
            )
        ).all()
    assert sorted(str(role) for role in reads) == ["DOCTOR", "PATIENT"]


async def test_the_old_time_of_a_rescheduled_appointment_is_offered(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: MondayWorld,
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    booker = await signed_in(sessions, settings, Role.PATIENT, name="Booker")
    waiting = await patient_with_phone(sessions, settings)
    booked = await book_via_api(client, clinic, doctor, local(monday, 10, 0, NY), booker)
    await _join(client, world, waiting, start=9, end=11)
    move = "mutation M($id: ID!, $at: DateTime!) { rescheduleAppointment(id: $id, startsAt: $at) { startsAt } }"

    moved = await graphql(client, move, {"id": booked, "at": _at(world, 11)}, token=booker.token)

    assert moved == {"data": {"rescheduleAppointment": {"startsAt": _at(world, 11)}}}
    assert await _status(client, waiting) == ("OFFERED", _at(world, 10))
    assert await _holds(sessions) == [(waiting.profile_id, local(monday, 10, 0, NY))]
