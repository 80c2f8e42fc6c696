"""A clinic's cancellation cutoff: inside it a patient can neither cancel nor reschedule;
an administrator can."""

from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, Role
from db.models import Appointment, Clinic, Doctor, Patient
from domain.clock import clock
from services.settings import Settings
from tests.support.api import graphql
from tests.support.factories import appointment
from tests.support.scheduling import Signed, add_template, clinic_with_doctor, local, signed_in

NY = "America/New_York"
# Monday 2027-01-04, 19:30 on Sunday evening in New York.
NOW = datetime(2027, 1, 4, 0, 30, tzinfo=UTC)
MONDAY, TUESDAY = NOW.date(), NOW.date().replace(day=5)
CANCEL = "mutation C($id: ID!) { cancelAppointment(id: $id) { id status } }"
RESCHEDULE = """mutation R($id: ID!, $at: DateTime!) {
  rescheduleAppointment(id: $id, startsAt: $at) { id startsAt } }"""
SET_CUTOFF = """mutation U($id: ID!, $hours: Int!) {
  updateClinic(id: $id, input: {cancellationCutoffHours: $hours}) { cancellationCutoffHours } }"""


@pytest.fixture
def monday_night() -> Iterator[None]:
    with clock.travel_to(NOW):
        yield


async def _booked(
    sessions: async_sessionmaker[AsyncSession],
    clinic: Clinic,
    doctor: Doctor,
    patient: Signed,
    starts_at: datetime,
) -> str:
    async with sessions.begin() as session:
        row = appointment(
            doctor=doctor,
            patient=await session.get_one(Patient, patient.profile_id),
            clinic=clinic,
            starts_at=starts_at,
        )
        session.add(row)
    return str(row.id)


async def _row(sessions: async_sessionmaker[AsyncSession], id_: str) -> Appointment:
    async with sessions() as session:
        row = await session.scalar(select(Appointment).where(Appointment.id == id_))
    assert row is not None
    return row


def _errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["message"], e["extensions"]["code"]) for e in body["errors"]]


@pytest.mark.usefixtures("monday_night")
async def test_inside_the_cutoff_a_patient_is_refused_and_an_admin_is_not(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    for weekday in (1, 2):
        await add_template(sessions, doctor, clinic, weekday, time(9), time(12))
    admin = await signed_in(sessions, settings, Role.ADMIN)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    cutoff = await graphql(
        client, SET_CUTOFF, {"id": str(clinic.id), "hours": 24}, token=admin.token
    )
    assert cutoff["data"]["updateClinic"] == {"cancellationCutoffHours": 24}
    # 13.5 hours ahead, and 37.5.
    soon = await _booked(sessions, clinic, doctor, patient, local(MONDAY, 9, 0, NY))
    later = await _booked(sessions, clinic, doctor, patient, local(TUESDAY, 9, 0, NY))
    before = await _row(sessions, soon)

    cancel = await graphql(client, CANCEL, {"id": soon}, token=patient.token)
    move = await graphql(
        client, RESCHEDULE, {"id": soon, "at": local(MONDAY, 11, 0, NY).isoformat()},
        token=patient.token,
    )  # fmt: skip

    message = (
        "This appointment starts within 24 hours and can no longer be {} online; "
        "please call the clinic."
    )
    assert _errors(cancel) == [(message.format("cancelled"), "CONFLICT")]
    assert _errors(move) == [(message.format("rescheduled"), "CONFLICT")]
    after = await _row(sessions, soon)
    assert (after.status, after.starts_at, after.updated_at) == (
        AppointmentStatus.SCHEDULED, before.starts_at, before.updated_at,
    )  # fmt: skip

    outside = await graphql(client, CANCEL, {"id": later}, token=patient.token)
    by_admin = await graphql(
        client, RESCHEDULE, {"id": soon, "at": local(MONDAY, 11, 0, NY).isoformat()},
        token=admin.token,
    )  # fmt: skip
    cancelled_by_admin = await graphql(client, CANCEL, {"id": soon}, token=admin.token)

    assert outside["data"]["cancelAppointment"] == {"id": later, "status": "CANCELLED"}
    assert by_admin["data"]["rescheduleAppointment"] == {
        "id": soon, "startsAt": local(MONDAY, 11, 0, NY).isoformat(),
    }  # fmt: skip
    assert cancelled_by_admin["data"]["cancelAppointment"] == {"id": soon, "status": "CANCELLED"}


@pytest.mark.usefixtures("monday_night")
async def test_without_a_cutoff_a_patient_may_cancel_until_the_start(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    # 30 minutes ahead; the clinic says nothing (0 hours).
    soon = await _booked(sessions, clinic, doctor, patient, datetime(2027, 1, 4, 1, tzinfo=UTC))
    async with sessions() as session:
        hours = await session.scalar(
            select(Clinic.cancellation_cutoff_hours).where(Clinic.id == clinic.id)
        )

    cancel = await graphql(client, CANCEL, {"id": soon}, token=patient.token)

    assert hours == 0
    assert cancel["data"]["cancelAppointment"] == {"id": soon, "status": "CANCELLED"}


@pytest.mark.usefixtures("monday_night")
async def test_the_cutoff_is_measured_to_the_start(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    async with sessions.begin() as session:
        await session.execute(
            update(Clinic).where(Clinic.id == clinic.id).values(cancellation_cutoff_hours=2)
        )
    patient = await signed_in(sessions, settings, Role.PATIENT)
    # One appointment just inside two hours, one outside them.
    inside = await _booked(
        sessions, clinic, doctor, patient, datetime(2027, 1, 4, 2, 29, tzinfo=UTC)
    )
    outside = await _booked(
        sessions, clinic, doctor, patient, datetime(2027, 1, 4, 3, 0, tzinfo=UTC)
    )

    refused = await graphql(client, CANCEL, {"id": inside}, token=patient.token)
    allowed = await graphql(client, CANCEL, {"id": outside}, token=patient.token)

    assert [code for _, code in _errors(refused)] == ["CONFLICT"]
    assert allowed["data"]["cancelAppointment"] == {"id": outside, "status": "CANCELLED"}
