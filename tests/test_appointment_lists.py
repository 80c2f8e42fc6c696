"""Patient.appointments (keyset pages, status filter), appointment(id), doctorSchedule."""

from datetime import UTC, datetime, time, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, Role
from db.models import Patient
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import add_doctor, add_patient, appointment
from tests.support.scheduling import (
    add_template,
    clinic_with_doctor,
    local,
    next_weekday,
    signed_in,
)
from tests.support.statements import counting_statements

PAGE = """query P($id: ID!, $first: Int, $after: String, $status: [AppointmentStatus!]) {
  patient(id: $id) { appointments(first: $first, after: $after, status: $status) {
    edges { cursor node { id status startsAt } } pageInfo { hasNextPage endCursor } } } }"""


async def test_patient_appointments_newest_first_in_pages_and_by_status(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    pat = await signed_in(sessions, settings, Role.PATIENT)
    base = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        patient = await session.get_one(Patient, pat.profile_id)
        rows = [
            appointment(doctor=doctor, patient=patient, clinic=clinic, starts_at=base + timedelta(days=n),
                        status=AppointmentStatus.CANCELLED if n % 3 == 0 else AppointmentStatus.COMPLETED)
            for n in range(7)
        ]  # fmt: skip
        session.add_all(rows)
    newest_first = [str(row.id) for row in reversed(rows)]

    seen, after, pages = [], None, []
    while True:
        body = await graphql(
            client, PAGE, {"id": str(pat.profile_id), "first": 3, "after": after}, token=pat.token
        )
        connection = body["data"]["patient"]["appointments"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        pages.append(len(connection["edges"]))
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    cancelled = await graphql(
        client, PAGE, {"id": str(pat.profile_id), "status": ["CANCELLED"]}, token=pat.token
    )
    too_many = await graphql(
        client, PAGE, {"id": str(pat.profile_id), "first": 101}, token=pat.token
    )

    assert (pages, seen) == ([3, 3, 1], newest_first)
    assert [e["node"]["id"] for e in cancelled["data"]["patient"]["appointments"]["edges"]] == [
        str(rows[n].id) for n in (6, 3, 0)
    ]
    assert error_codes(too_many) == ["BAD_USER_INPUT"]


async def test_appointment_by_id_for_those_involved_only(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    async with sessions.begin() as session:
        other_doctor = await add_doctor(session, "Dr. Bo Lin", clinics=(clinic,))
    pat = await signed_in(sessions, settings, Role.PATIENT)
    stranger = await signed_in(sessions, settings, Role.PATIENT, name="Max Roe")
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    other_doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=other_doctor)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    async with sessions.begin() as session:
        row = appointment(doctor=doctor, patient=await session.get_one(Patient, pat.profile_id),
                          clinic=clinic, starts_at=datetime(2030, 1, 7, 14, tzinfo=UTC))  # fmt: skip
        session.add(row)
    query = "query A($id: ID!) { appointment(id: $id) { id startsAt patient { name } } }"

    answers = {
        who: await graphql(client, query, {"id": str(row.id)}, token=signed.token)
        for who, signed in [("patient", pat), ("stranger", stranger), ("doctor", doc),
                            ("other_doctor", other_doc), ("admin", admin)]
    }  # fmt: skip

    expected = {
        "id": str(row.id),
        "startsAt": "2030-01-07T09:00:00-05:00",
        "patient": {"name": "Pat Doe"},
    }
    assert {who: body["data"]["appointment"] for who, body in answers.items()} == {
        "patient": expected, "stranger": None, "doctor": expected, "other_doctor": None, "admin": expected,
    }  # fmt: skip
    assert error_codes(answers["stranger"]) == error_codes(answers["other_doctor"]) == ["FORBIDDEN"]


async def test_doctor_schedule_with_patients_batched(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor = await clinic_with_doctor(sessions)
    await add_template(sessions, doctor, clinic, 1, time(8), time(18), slot_minutes=20)
    monday = next_weekday(1)
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    async with sessions.begin() as session:
        patients = [await add_patient(session, f"Patient {n:02}") for n in range(20)]
        rows = [
            appointment(doctor=doctor, patient=patient, clinic=clinic,
                        starts_at=local(monday, 8, 0, "America/New_York") + timedelta(minutes=20 * n), minutes=20)
            for n, patient in enumerate(patients)
        ]  # fmt: skip
        rows[5].status, rows[5].cancelled_at = AppointmentStatus.CANCELLED, datetime.now(UTC)
        session.add_all(rows)
    query = """query S($doctorId: ID!, $date: Date!) { doctorSchedule(doctorId: $doctorId, date: $date) {
        startsAt status patient { name } clinic { name } } }"""
    variables = {"doctorId": str(doctor.id), "date": monday.isoformat()}
    # The process's clinic directory learns a new clinic once; count what repeats.
    await graphql(client, query, variables, token=doc.token)

    with counting_statements() as log:
        body = await graphql(client, query, variables, token=doc.token)
    refused = await graphql(
        client, query, variables, token=(await signed_in(sessions, settings, Role.PATIENT)).token
    )

    schedule = body["data"]["doctorSchedule"]
    assert [entry["patient"]["name"] for entry in schedule] == [
        f"Patient {n:02}" for n in range(20) if n != 5
    ]
    assert schedule[0]["startsAt"] == local(monday, 8, 0, "America/New_York").isoformat()
    # The day with its clinics, its patients in one batch, and the audit rows.
    assert log.count == 3
    assert error_codes(refused) == ["FORBIDDEN"]
