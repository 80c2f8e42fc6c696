"""bookAppointment: one winner per slot, whatever the concurrency; clear refusals otherwise."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AuditOutcome, Role
from db.models import Appointment, AuditEntry, Clinic, Doctor, ScheduleException
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic, add_doctor, add_patient, appointment
from tests.support.scheduling import (
    MondayWorld,
    add_template,
    local,
    make_monday_world,
    signed_in,
)
from tests.support.statements import RoundTripLog, counting_round_trips, counting_statements

BOOK = """
mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status startsAt endsAt reason patient { name } doctor { name } clinic { name } }
}
"""
NY = "America/New_York"


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Appointment)) or 0


@pytest.fixture
async def monday_world(sessions: async_sessionmaker[AsyncSession]) -> MondayWorld:
    return await make_monday_world(sessions)


def _input(
    clinic: Clinic, doctor: Doctor, starts_at: datetime, **extra: object
) -> dict[str, object]:
    return {
        "input": {
            "doctorId": str(doctor.id),
            "clinicId": str(clinic.id),
            "startsAt": starts_at.isoformat(),
            **extra,
        }
    }


async def test_a_patient_books_a_slot(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    starts = local(monday, 9, 30, NY)

    body = await graphql(
        client, BOOK, _input(clinic, doctor, starts, reason="Check-up"), token=pat.token
    )

    booked = body["data"]["bookAppointment"]
    assert booked["status"] == "SCHEDULED"
    assert booked["startsAt"] == starts.isoformat()
    assert booked["endsAt"] == (starts + timedelta(minutes=30)).isoformat()
    assert (booked["reason"], booked["patient"], booked["doctor"], booked["clinic"]) == (
        "Check-up", {"name": "Pat Doe"}, {"name": "Dr. Ada Grey"}, {"name": "Riverside"},
    )  # fmt: skip
    assert await _count(sessions) == 1


async def test_a_hundred_patients_race_for_one_slot(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    patients = [await signed_in(sessions, settings, Role.PATIENT, name=f"P{n}") for n in range(100)]
    variables = _input(clinic, doctor, local(monday, 10, 0, NY))

    bodies = await asyncio.gather(
        *(graphql(client, BOOK, variables, token=patient.token) for patient in patients)
    )

    outcomes = [error_codes(body) or ["OK"] for body in bodies]
    assert outcomes.count(["OK"]) == 1
    assert outcomes.count(["SLOT_UNAVAILABLE"]) == 99
    refusals = {body["errors"][0]["message"] for body in bodies if "errors" in body}
    assert refusals == {"Sorry, that time was just taken. Please choose another slot."}
    assert await _count(sessions) == 1


async def _lock_waiters(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return waiting or 0


async def test_racers_queued_behind_an_open_booking_end_with_one_winner_and_no_deadlock(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    """Ten bookings of one slot wait for a transaction that holds it and then rolls
    back. Inserted first and checked after, each would wait for the others: a
    deadlock, aborted after a second, that failed bookings under load."""
    clinic, doctor, monday = monday_world
    holder = await signed_in(sessions, settings, Role.PATIENT, name="Holder")
    patients = [await signed_in(sessions, settings, Role.PATIENT, name=f"P{n}") for n in range(10)]
    starts_at = local(monday, 10, 0, NY)
    variables = _input(clinic, doctor, starts_at)

    async with sessions() as blocking:
        await blocking.execute(
            text(
                "INSERT INTO appointments (id, patient_id, doctor_id, clinic_id, starts_at,"
                " ends_at, created_at, updated_at) VALUES (gen_random_uuid(), :patient,"
                " :doctor, :clinic, :starts_at, :ends_at, now(), now())"
            ),
            {"patient": holder.profile_id, "doctor": doctor.id, "clinic": clinic.id,
             "starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=30)},
        )  # fmt: skip
        racing = [
            asyncio.ensure_future(graphql(client, BOOK, variables, token=patient.token))
            for patient in patients
        ]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while await _lock_waiters(sessions) < len(patients):
            assert loop.time() < deadline, "the bookings never queued behind the open one"
            await asyncio.sleep(0.02)
        await blocking.rollback()
        bodies = await asyncio.gather(*racing)

    outcomes = [error_codes(body) or ["OK"] for body in bodies]
    assert outcomes.count(["OK"]) == 1
    assert outcomes.count(["SLOT_UNAVAILABLE"]) == 9
    refusals = {body["errors"][0]["message"] for body in bodies if "errors" in body}
    assert refusals == {"Sorry, that time was just taken. Please choose another slot."}
    assert await _count(sessions) == 1


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_booking(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    variables = _input(clinic, doctor, local(monday, 11, 0, NY), idempotencyKey="k-123")

    first, *retries = await asyncio.gather(
        *(graphql(client, BOOK, variables, token=pat.token) for _ in range(5))
    )
    later = await graphql(client, BOOK, variables, token=pat.token)

    ids = {body["data"]["bookAppointment"]["id"] for body in [first, *retries, later]}
    assert len(ids) == 1
    assert await _count(sessions) == 1


@pytest.mark.parametrize(
    ("hour", "minute", "message"),
    [
        (9, 15, "That time is not a slot of the doctor's schedule at this clinic."),
        (12, 0, "That time is not a slot of the doctor's schedule at this clinic."),
        (8, 30, "That time is not a slot of the doctor's schedule at this clinic."),
    ],
)
async def test_times_that_are_not_slots_are_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    monday_world: MondayWorld, hour: int, minute: int, message: str,
) -> None:  # fmt: skip
    clinic, doctor, monday = monday_world
    pat = await signed_in(sessions, settings, Role.PATIENT)

    body = await graphql(
        client, BOOK, _input(clinic, doctor, local(monday, hour, minute, NY)), token=pat.token
    )

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "SLOT_UNAVAILABLE")
    ]
    assert await _count(sessions) == 0


async def test_past_slots_and_slots_in_an_exception_are_refused(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    last_monday = monday - timedelta(days=7 * ((monday - datetime.now(UTC).date()).days // 7 + 1))
    async with sessions.begin() as session:
        session.add(ScheduleException(doctor_id=doctor.id, starts_at=local(monday, 10, 0, NY),
                                      ends_at=local(monday, 11, 0, NY), reason="Conference"))  # fmt: skip
    pat = await signed_in(sessions, settings, Role.PATIENT)

    past = await graphql(
        client, BOOK, _input(clinic, doctor, local(last_monday, 9, 0, NY)), token=pat.token
    )
    away = await graphql(
        client, BOOK, _input(clinic, doctor, local(monday, 10, 30, NY)), token=pat.token
    )

    assert [e["message"] for e in past["errors"]] == ["That slot is in the past."]
    assert [e["message"] for e in away["errors"]] == ["The doctor is away at that time."]
    assert error_codes(past) == error_codes(away) == ["SLOT_UNAVAILABLE"]
    assert await _count(sessions) == 0


async def test_a_patient_cannot_be_in_two_places(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    async with sessions.begin() as session:
        other = await add_doctor(session, "Dr. Bo Lin", clinics=(clinic,))
    await add_template(sessions, other, clinic, 1, time(9), time(12), slot_minutes=60)
    pat = await signed_in(sessions, settings, Role.PATIENT)
    await graphql(client, BOOK, _input(clinic, doctor, local(monday, 10, 30, NY)), token=pat.token)

    body = await graphql(
        client, BOOK, _input(clinic, other, local(monday, 10, 0, NY)), token=pat.token
    )

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("The patient already has an appointment at that time.", "SLOT_UNAVAILABLE")
    ]
    assert await _count(sessions) == 1


async def test_who_may_book_for_whom(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    other = await signed_in(sessions, settings, Role.PATIENT, name="Max Roe")
    admin = await signed_in(sessions, settings, Role.ADMIN)
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    at = local(monday, 9, 0, NY)

    anonymous = await graphql(client, BOOK, _input(clinic, doctor, at))
    for_someone_else = await graphql(
        client, BOOK, _input(clinic, doctor, at, patientId=str(other.profile_id)), token=pat.token
    )
    by_doctor = await graphql(client, BOOK, _input(clinic, doctor, at), token=doc.token)
    admin_without_patient = await graphql(
        client, BOOK, _input(clinic, doctor, at), token=admin.token
    )
    assert [error_codes(b) for b in (anonymous, for_someone_else, by_doctor, admin_without_patient)] == [
        ["UNAUTHENTICATED"], ["FORBIDDEN"], ["FORBIDDEN"], ["BAD_USER_INPUT"],
    ]  # fmt: skip
    assert await _count(sessions) == 0

    by_admin = await graphql(
        client, BOOK, _input(clinic, doctor, at, patientId=str(other.profile_id)), token=admin.token
    )
    assert by_admin["data"]["bookAppointment"]["patient"] == {"name": "Max Roe"}
    assert await _count(sessions) == 1


async def test_bad_booking_input(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    async with sessions.begin() as session:
        elsewhere = await add_clinic(session, "Elsewhere", "Europe/Berlin")
    pat = await signed_in(sessions, settings, Role.PATIENT)
    naive = {
        "input": {
            "doctorId": str(doctor.id),
            "clinicId": str(clinic.id),
            "startsAt": f"{monday}T09:00:00",
        }
    }

    not_there = await graphql(
        client, BOOK, _input(elsewhere, doctor, local(monday, 9, 0, NY)), token=pat.token
    )
    no_offset = await graphql(client, BOOK, naive, token=pat.token)

    assert [e["message"] for e in not_there["errors"]] == [
        "That doctor does not work at that clinic."
    ]
    assert [e["message"] for e in no_offset["errors"]] == [
        "input.startsAt: not a valid date and time in ISO 8601 form with a UTC offset,"
        " e.g. 2026-03-02T09:00:00-05:00"
    ]
    assert error_codes(not_there) == error_codes(no_offset) == ["BAD_USER_INPUT"]
    assert await _count(sessions) == 0


@pytest.mark.parametrize("shared", ["doctor_id", "patient_id"])
async def test_concurrent_overlapping_inserts_of_different_lengths(
    sessions: async_sessionmaker[AsyncSession], shared: str
) -> None:
    """Straight into PostgreSQL, many at once: never two overlapping SCHEDULED rows."""
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        doctors = [await add_doctor(session, f"Dr {n}", clinics=(clinic,)) for n in range(30)]
        patients = [await add_patient(session, f"P {n}") for n in range(30)]
    base = datetime(2031, 1, 6, 14, 0, tzinfo=UTC)
    rng = random.Random(7)

    async def insert(n: int) -> bool:
        row = appointment(
            doctor=doctors[0] if shared == "doctor_id" else doctors[n],
            patient=patients[0] if shared == "patient_id" else patients[n],
            clinic=clinic,
            starts_at=base + timedelta(minutes=rng.randrange(0, 120, 5)),
            minutes=rng.choice([10, 15, 20, 30, 45, 60, 90]),
        )
        try:
            async with sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            return False
        except DBAPIError as error:
            # Two conflicting inserts may wait on each other; PostgreSQL aborts one.
            if getattr(error.orig, "sqlstate", None) != "40P01":
                raise
            return False
        return True

    results = await asyncio.gather(*(insert(n) for n in range(30)))

    async with sessions() as session:
        overlapping = await session.scalar(
            text(
                f"""SELECT count(*) FROM appointments a JOIN appointments b
                    ON a.{shared} = b.{shared} AND a.id < b.id
                   AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
                 WHERE a.status = 'SCHEDULED' AND b.status = 'SCHEDULED'"""
            )
        )
        stored = await session.scalar(select(func.count()).select_from(Appointment))
    assert overlapping == 0
    assert stored == sum(results)
    assert 1 <= sum(results) < 30


# A booking whose slot the cached day vouches for: one statement, atomic alone (no BEGIN
# or COMMIT round trip), with its outbox message and audit row (domain/booking.py).
A_BOOKING = ["WITH booked AS"]
ADD_EXCEPTION = """
mutation Away($input: ScheduleExceptionInput!) { addScheduleException(input: $input) { id } }
"""


async def test_a_day_stale_only_by_bookings_still_vouches_for_its_schedule(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    first, second, third = [await signed_in(sessions, settings, Role.PATIENT) for _ in range(3)]
    admin = await signed_in(sessions, settings, Role.ADMIN)
    day = {"doctorId": str(doctor.id), "date": monday.isoformat()}
    await graphql(client, DAY, day, token=first.token)
    await graphql(client, BOOK_LEAN, _input(clinic, doctor, local(monday, 11, 0, NY)), token=first.token)  # fmt: skip

    # The first booking made the cached day stale by bookings only: no day is read again.
    with counting_round_trips() as trips:
        other = await graphql(
            client, BOOK_LEAN, _input(clinic, doctor, local(monday, 11, 30, NY)), token=second.token
        )
    taken = await graphql(
        client, BOOK_LEAN, _input(clinic, doctor, local(monday, 11, 0, NY)), token=third.token
    )
    # A change of the schedule makes the copy useless for booking: the day is read again.
    away = {
        "doctorId": str(doctor.id),
        "startsAt": local(monday, 10, 0, NY).isoformat(),
        "endsAt": local(monday, 10, 30, NY).isoformat(),
        "reason": "Conference",
    }
    await graphql(client, ADD_EXCEPTION, {"input": away}, token=admin.token)
    with counting_round_trips() as away_trips:
        refused = await graphql(
            client, BOOK_LEAN, _input(clinic, doctor, local(monday, 10, 0, NY)), token=third.token
        )

    assert other["data"]["bookAppointment"]["status"] == "SCHEDULED"
    assert _sent(trips) == A_BOOKING
    assert [e["message"] for e in taken["errors"]] == [
        "Sorry, that time was just taken. Please choose another slot."
    ]
    assert [e["message"] for e in refused["errors"]] == ["The doctor is away at that time."]
    assert error_codes(taken) == error_codes(refused) == ["SLOT_UNAVAILABLE"]
    assert _sent(away_trips)[:2] == ["SELECT $1::VARCHAR AS", "SELECT clinics.timezone FROM"]
    assert await _count(sessions) == 2


BOOK_LEAN = """
mutation Book($input: BookAppointmentInput!) { bookAppointment(input: $input) { id status startsAt } }
"""
DAY = """
query Day($doctorId: ID!, $date: Date!) { availableSlots(doctorId: $doctorId, date: $date) { startsAt available } }
"""


def _sent(log: RoundTripLog) -> list[str]:
    """Each round trip by its first words: what kind of statement went."""
    return [" ".join(sent.split()[:3]) for sent in log.sent]


async def test_booking_a_slot_just_seen_costs_one_statement_on_one_connection(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monday_world: MondayWorld,
) -> None:
    clinic, doctor, monday = monday_world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    starts = local(monday, 11, 0, NY)
    variables = _input(clinic, doctor, starts, idempotencyKey="once")
    # The patient looks at the day first (and the process learns the clinic).
    await graphql(
        client, DAY, {"doctorId": str(doctor.id), "date": monday.isoformat()}, token=pat.token
    )

    with counting_round_trips() as trips, counting_statements() as statements:
        booked = await graphql(client, BOOK_LEAN, variables, token=pat.token)
    with counting_round_trips() as replay_trips:
        replayed = await graphql(client, BOOK_LEAN, variables, token=pat.token)

    assert replayed == booked
    assert booked["data"]["bookAppointment"]["startsAt"] == starts.isoformat()
    # No pre-ping, no idempotency SELECT, no savepoint, no zone or day read: the slot came from the
    # cached day and the clinic's zone from the directory; no expired hold is looked for
    # unless one is met (test_holds.py); the audit row goes in the booking's statement.
    assert _sent(trips) == A_BOOKING
    assert statements.count == 1
    # A retry: the key's conflict in the INSERT, then the booking it made. The booking
    # made the cached day stale by bookings only: its schedule still vouches for the slot.
    assert _sent(replay_trips) == [
        "WITH booked AS",
        "SELECT appointments.id, appointments.patient_id,",
        "INSERT INTO audit_log",  # the replay's row: nothing was inserted to carry it
    ]
    appointment_id = uuid.UUID(booked["data"]["bookAppointment"]["id"])
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    AuditEntry.action,
                    AuditEntry.outcome,
                    AuditEntry.patient_id,
                    AuditEntry.actor_user_id,
                    AuditEntry.actor_role,
                    AuditEntry.ip,
                    AuditEntry.resource_type,
                )
                .where(AuditEntry.resource_id == str(appointment_id))
                .order_by(AuditEntry.id)
            )
        ).all()
        request_ids = (
            await session.scalars(
                select(AuditEntry.request_id).where(AuditEntry.resource_id == str(appointment_id))
            )
        ).all()
    expected = ("appointment.book", AuditOutcome.ALLOWED, pat.profile_id, pat.user_id)
    # asyncpg reads an inet back as an address object.
    shown = [(*row[:5], str(row[5]), row[6]) for row in rows]
    assert shown == [(*expected, Role.PATIENT, "127.0.0.1", "Appointment")] * 2
    # Each row names its own request.
    assert len(set(request_ids)) == 2
    assert None not in request_ids
