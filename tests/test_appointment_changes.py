"""Cancel, reschedule and close: legal changes only, and a refused change changes nothing."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, Role
from db.models import Appointment, Clinic, Doctor, Patient
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import appointment
from tests.support.scheduling import (
    MondayWorld,
    book_via_api,
    local,
    make_monday_world,
    signed_in,
)

NY = "America/New_York"
CANCEL = """mutation C($id: ID!, $reason: String) {
  cancelAppointment(id: $id, reason: $reason) { id status cancellationReason } }"""
RESCHEDULE = """mutation R($id: ID!, $at: DateTime!) {
  rescheduleAppointment(id: $id, startsAt: $at) { id status startsAt endsAt } }"""
SET_STATUS = """mutation S($id: ID!, $status: AppointmentStatus!) {
  setAppointmentStatus(id: $id, status: $status) { id status } }"""
SLOTS = """query S($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt available } }"""


async def _row(sessions: async_sessionmaker[AsyncSession], id_: str) -> Appointment:
    async with sessions() as session:
        row = await session.scalar(select(Appointment).where(Appointment.id == id_))
    assert row is not None
    return row


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> MondayWorld:
    return await make_monday_world(sessions)


async def test_cancel_frees_the_slot_at_once_and_cannot_happen_twice(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    clinic, doctor, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    id_ = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    slots = {"doctorId": str(doctor.id), "date": monday.isoformat()}
    assert (await graphql(client, SLOTS, slots))["data"]["availableSlots"][0]["available"] is False

    cancelled = await graphql(
        client, CANCEL, {"id": id_, "reason": "Feeling better"}, token=pat.token
    )
    again = await graphql(client, CANCEL, {"id": id_}, token=pat.token)

    assert cancelled["data"]["cancelAppointment"] == {
        "id": id_, "status": "CANCELLED", "cancellationReason": "Feeling better",
    }  # fmt: skip
    assert (await graphql(client, SLOTS, slots))["data"]["availableSlots"][0]["available"] is True
    assert [(e["message"], e["extensions"]["code"]) for e in again["errors"]] == [
        ("Only a scheduled appointment can be cancelled; this one is CANCELLED.", "CONFLICT")
    ]
    row = await _row(sessions, id_)
    assert (row.status, row.cancellation_reason) == (AppointmentStatus.CANCELLED, "Feeling better")


async def test_only_the_patient_and_admins_may_cancel(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    clinic, doctor, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    other = await signed_in(sessions, settings, Role.PATIENT, name="Max Roe")
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    id_ = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)

    refusals = [await graphql(client, CANCEL, {"id": id_}, token=who.token) for who in (other, doc)]
    missing = await graphql(
        client, CANCEL, {"id": "01a223ec-0000-7000-8000-000000000000"}, token=pat.token
    )

    assert [error_codes(body) for body in (*refusals, missing)] == [["FORBIDDEN"]] * 3
    assert (await _row(sessions, id_)).status is AppointmentStatus.SCHEDULED
    by_admin = await graphql(client, CANCEL, {"id": id_}, token=admin.token)
    assert by_admin["data"]["cancelAppointment"]["status"] == "CANCELLED"


async def test_reschedule_moves_the_booking_and_frees_the_old_slot(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    clinic, doctor, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    id_ = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    new = local(monday, 11, 30, NY)

    body = await graphql(client, RESCHEDULE, {"id": id_, "at": new.isoformat()}, token=pat.token)

    assert body["data"]["rescheduleAppointment"] == {
        "id": id_, "status": "SCHEDULED", "startsAt": new.isoformat(),
        "endsAt": (new + timedelta(minutes=30)).isoformat(),
    }  # fmt: skip
    slots = await graphql(client, SLOTS, {"doctorId": str(doctor.id), "date": monday.isoformat()})
    free = [s["available"] for s in slots["data"]["availableSlots"]]
    assert free == [True, True, True, True, True, False]


async def test_reschedule_to_a_taken_slot_leaves_the_original_intact(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    clinic, doctor, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    other = await signed_in(sessions, settings, Role.PATIENT, name="Max Roe")
    mine = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    await book_via_api(client, clinic, doctor, local(monday, 10, 0, NY), other)
    before = await _row(sessions, mine)

    body = await graphql(
        client,
        RESCHEDULE,
        {"id": mine, "at": local(monday, 10, 0, NY).isoformat()},
        token=pat.token,
    )
    not_a_slot = await graphql(
        client,
        RESCHEDULE,
        {"id": mine, "at": local(monday, 10, 10, NY).isoformat()},
        token=pat.token,
    )

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("Sorry, that time was just taken. Please choose another slot.", "SLOT_UNAVAILABLE")
    ]
    assert error_codes(not_a_slot) == ["SLOT_UNAVAILABLE"]
    after = await _row(sessions, mine)
    assert (after.starts_at, after.ends_at, after.status, after.updated_at) == (
        before.starts_at, before.ends_at, before.status, before.updated_at,
    )  # fmt: skip


async def _past_appointment(
    sessions: async_sessionmaker[AsyncSession],
    clinic: Clinic,
    doctor: Doctor,
    patient_id: object,
    hours_ago: int,
) -> str:
    async with sessions.begin() as session:
        patient = await session.get_one(Patient, patient_id)
        row = appointment(doctor=doctor, patient=patient, clinic=clinic,
                          starts_at=datetime.now(UTC) - timedelta(hours=hours_ago))  # fmt: skip
        session.add(row)
    return str(row.id)


async def test_closing_an_appointment(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: MondayWorld,
) -> None:
    clinic, doctor, monday = world
    pat = await signed_in(sessions, settings, Role.PATIENT)
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    future = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    past = await _past_appointment(sessions, clinic, doctor, pat.profile_id, hours_ago=2)

    too_early = await graphql(
        client, SET_STATUS, {"id": future, "status": "COMPLETED"}, token=doc.token
    )
    by_patient = await graphql(
        client, SET_STATUS, {"id": past, "status": "NO_SHOW"}, token=pat.token
    )
    not_closing = await graphql(
        client, SET_STATUS, {"id": past, "status": "CANCELLED"}, token=doc.token
    )
    done = await graphql(client, SET_STATUS, {"id": past, "status": "NO_SHOW"}, token=doc.token)
    twice = await graphql(client, SET_STATUS, {"id": past, "status": "COMPLETED"}, token=doc.token)
    cancel_started = await graphql(client, CANCEL, {"id": past}, token=pat.token)

    assert [(e["message"], e["extensions"]["code"]) for e in too_early["errors"]] == [
        ("An appointment cannot be marked COMPLETED before it starts.", "CONFLICT")
    ]
    assert error_codes(by_patient) == ["FORBIDDEN"]
    assert error_codes(not_closing) == ["BAD_USER_INPUT"]
    assert done["data"]["setAppointmentStatus"] == {"id": past, "status": "NO_SHOW"}
    assert [e["message"] for e in twice["errors"]] == [
        "Only a scheduled appointment can be marked COMPLETED; this one is NO_SHOW."
    ]
    assert error_codes(cancel_started) == ["CONFLICT"]
    assert (await _row(sessions, future)).status is AppointmentStatus.SCHEDULED
    assert (await _row(sessions, past)).status is AppointmentStatus.NO_SHOW
