"""Administration: clinics, doctors, templates and exceptions change; bookings never do; and
each change drops exactly the cached days it moved."""

from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, Role
from db.models import Appointment, Clinic, Doctor, ScheduleTemplate
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic
from tests.support.scheduling import (
    Signed,
    add_template,
    book_via_api,
    clinic_with_doctor,
    link,
    local,
    next_weekday,
    signed_in,
)
from tests.support.statements import counting_statements

NY = "America/New_York"
SLOTS = """query S($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt available } }"""
TEMPLATES = """query T($id: ID!) { doctor(id: $id) {
  scheduleTemplates { id clinicId dayOfWeek startTime endTime slotMinutes } } }"""
EXCEPTIONS = """query E($id: ID!, $from: Date, $to: Date) { doctor(id: $id) {
  scheduleExceptions(from: $from, to: $to) { id startsAt endsAt reason } } }"""
REMOVE_TEMPLATE = "mutation R($id: ID!) { removeScheduleTemplate(id: $id) }"
REMOVE_EXCEPTION = "mutation R($id: ID!) { removeScheduleException(id: $id) }"
ADD_EXCEPTION = """mutation A($input: ScheduleExceptionInput!) {
  addScheduleException(input: $input) { id } }"""
UPDATE_DOCTOR = """mutation U($id: ID!, $input: UpdateDoctorInput!) {
  updateDoctor(id: $id, input: $input) { id name specialty active clinics { name } } }"""
UPDATE_CLINIC = """mutation U($id: ID!, $input: UpdateClinicInput!) {
  updateClinic(id: $id, input: $input) {
    id name address timezone cancellationCutoffHours } }"""
DOCTORS = "query { doctors { edges { node { id } } } }"
DOCTOR = "query D($id: ID!) { doctor(id: $id) { id active } }"
SEARCH = """query S($filter: SlotSearchInput!) {
  searchSlots(filter: $filter, first: 100) { edges { node { doctor { id } } } } }"""
SCHEDULE = """query S($id: ID!, $from: Date!, $to: Date!) {
  schedule(doctorId: $id, from: $from, to: $to) { id status } }"""


async def _slots(client: httpx.AsyncClient, doctor: Doctor, day: date) -> list[tuple[str, bool]]:
    body = await graphql(client, SLOTS, {"doctorId": str(doctor.id), "date": day.isoformat()})
    assert "errors" not in body, body
    return [(slot["startsAt"], slot["available"]) for slot in body["data"]["availableSlots"]]


async def _read_count(client: httpx.AsyncClient, doctor: Doctor, day: date) -> int:
    """Statements one availableSlots costs: 0 while the day is cached."""
    with counting_statements() as log:
        await _slots(client, doctor, day)
    return log.count


async def _week(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[Clinic, Doctor, date, date]:
    """A doctor working Mondays and Tuesdays 09:00-10:00 in New York."""
    clinic, doctor = await clinic_with_doctor(sessions)
    await add_template(sessions, doctor, clinic, 1, time(9), time(10))
    await add_template(sessions, doctor, clinic, 2, time(9), time(10))
    monday = next_weekday(1)
    return clinic, doctor, monday, monday + timedelta(days=1)


async def _appointment_status(
    sessions: async_sessionmaker[AsyncSession], id_: str
) -> AppointmentStatus:
    async with sessions() as session:
        status = await session.scalar(select(Appointment.status).where(Appointment.id == id_))
    assert status is not None
    return status


async def test_a_removed_template_frees_nothing_booked_and_its_day_shows_no_slots_at_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday, tuesday = await _week(sessions)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    booked = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), patient)
    templates = (await graphql(client, TEMPLATES, {"id": str(doctor.id)}))["data"]["doctor"]
    monday_template = templates["scheduleTemplates"][0]
    assert [t["dayOfWeek"] for t in templates["scheduleTemplates"]] == [1, 2]
    assert monday_template["startTime"] == "09:00:00"
    assert len(await _slots(client, doctor, monday)) == len(await _slots(client, doctor, tuesday))

    refused = await graphql(
        client, REMOVE_TEMPLATE, {"id": monday_template["id"]}, token=patient.token
    )
    removed = await graphql(
        client, REMOVE_TEMPLATE, {"id": monday_template["id"]}, token=admin.token
    )
    again = await graphql(client, REMOVE_TEMPLATE, {"id": monday_template["id"]}, token=admin.token)

    assert error_codes(refused) == ["FORBIDDEN"]
    assert removed == {"data": {"removeScheduleTemplate": True}}
    assert [(e["message"], e["extensions"]["code"]) for e in again["errors"]] == [
        ("No schedule template has that id.", "NOT_FOUND")
    ]
    assert await _slots(client, doctor, monday) == []
    # Only Mondays moved: Tuesday is still served from the cache.
    assert await _read_count(client, doctor, tuesday) == 0
    assert await _appointment_status(sessions, booked) is AppointmentStatus.SCHEDULED
    schedule = await graphql(
        client,
        SCHEDULE,
        {"id": str(doctor.id), "from": monday.isoformat(), "to": tuesday.isoformat()},
        token=admin.token,
    )
    assert schedule["data"]["schedule"] == [{"id": booked, "status": "SCHEDULED"}]


async def test_exceptions_come_and_go_on_their_own_dates(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, doctor, monday, tuesday = await _week(sessions)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    free_monday = await _slots(client, doctor, monday)
    await _slots(client, doctor, tuesday)
    away = {
        "doctorId": str(doctor.id),
        "startsAt": local(monday, 9, 0, NY).isoformat(),
        "endsAt": local(monday, 9, 30, NY).isoformat(),
        "reason": "Conference",
    }

    added = await graphql(client, ADD_EXCEPTION, {"input": away}, token=admin.token)
    exception_id = added["data"]["addScheduleException"]["id"]

    assert [available for _, available in await _slots(client, doctor, monday)] == [False, True]
    assert await _read_count(client, doctor, tuesday) == 0
    week = {"id": str(doctor.id), "from": monday.isoformat(), "to": tuesday.isoformat()}
    listed = (await graphql(client, EXCEPTIONS, week, token=doc.token))["data"]["doctor"]
    assert [
        (e["id"], datetime.fromisoformat(e["startsAt"]), datetime.fromisoformat(e["endsAt"]),
         e["reason"])
        for e in listed["scheduleExceptions"]
    ] == [(exception_id, local(monday, 9, 0, NY), local(monday, 9, 30, NY), "Conference")]  # fmt: skip
    later = {**week, "from": tuesday.isoformat()}
    assert (await graphql(client, EXCEPTIONS, later, token=admin.token))["data"]["doctor"] == {
        "scheduleExceptions": []
    }
    assert error_codes(await graphql(client, EXCEPTIONS, week, token=patient.token)) == [
        "FORBIDDEN"
    ]

    removed = await graphql(client, REMOVE_EXCEPTION, {"id": exception_id}, token=admin.token)

    assert removed == {"data": {"removeScheduleException": True}}
    assert await _slots(client, doctor, monday) == free_monday
    assert await _read_count(client, doctor, tuesday) == 0


async def test_a_deactivated_doctor_disappears_and_keeps_their_bookings(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday, _ = await _week(sessions)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    booked = await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), patient)
    window = {
        "from": local(monday, 0, 0, NY).isoformat(),
        "to": local(monday + timedelta(days=7), 0, 0, NY).isoformat(),
        "specialty": "Cardiology",
    }
    assert (
        len((await graphql(client, SEARCH, {"filter": window}))["data"]["searchSlots"]["edges"])
        == 3
    )

    off = await graphql(
        client, UPDATE_DOCTOR, {"id": str(doctor.id), "input": {"active": False}}, token=admin.token
    )

    assert off["data"]["updateDoctor"]["active"] is False
    assert (await graphql(client, DOCTORS))["data"]["doctors"]["edges"] == []
    assert (await graphql(client, SEARCH, {"filter": window}))["data"]["searchSlots"]["edges"] == []
    assert await _slots(client, doctor, monday) == []
    assert (await graphql(client, DOCTOR, {"id": str(doctor.id)}))["data"]["doctor"] == {
        "id": str(doctor.id), "active": False,
    }  # fmt: skip
    assert await _appointment_status(sessions, booked) is AppointmentStatus.SCHEDULED
    other = await signed_in(sessions, settings, Role.PATIENT, name="Max Roe")
    refused = await graphql(
        client,
        "mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }",
        {"input": {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
                   "startsAt": local(monday, 9, 30, NY).isoformat()}},
        token=other.token,
    )  # fmt: skip
    assert error_codes(refused) == ["SLOT_UNAVAILABLE"]

    on = await graphql(
        client, UPDATE_DOCTOR, {"id": str(doctor.id), "input": {"active": True}}, token=admin.token
    )

    assert on["data"]["updateDoctor"]["active"] is True
    assert [available for _, available in await _slots(client, doctor, monday)] == [False, True]
    assert (await graphql(client, DOCTORS))["data"]["doctors"]["edges"] == [
        {"node": {"id": str(doctor.id)}}
    ]


async def test_update_doctor_names_and_clinics(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday, _ = await _week(sessions)
    async with sessions.begin() as session:
        annex = await add_clinic(session, "Annex", NY)
        spare = await add_clinic(session, "Spare", NY)
    await link(sessions, doctor, spare)
    await add_template(sessions, doctor, spare, 3, time(9), time(10))
    admin = await signed_in(sessions, settings, Role.ADMIN)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), patient)

    async def update(input_: dict[str, Any], who: Signed = admin) -> dict[str, Any]:
        return await graphql(
            client, UPDATE_DOCTOR, {"id": str(doctor.id), "input": input_}, token=who.token
        )

    leave_booked = await update({"clinicIds": [str(annex.id)]})
    by_patient = await update({"name": "Dr. Nobody"}, patient)
    null_name = await update({"name": None})
    renamed = await update(
        {"name": "Dr. Ada Lovelace", "specialty": "Neurology",
         "clinicIds": [str(clinic.id), str(annex.id)]}
    )  # fmt: skip

    assert [(e["message"], e["extensions"]["code"]) for e in leave_booked["errors"]] == [
        (
            "The doctor has appointments at a clinic being removed; bookings stay, so the "
            "clinic must too. Deactivate the doctor or remove their templates.",
            "CONFLICT",
        )
    ]
    assert error_codes(by_patient) == ["FORBIDDEN"]
    assert error_codes(null_name) == ["BAD_USER_INPUT"]
    assert renamed["data"]["updateDoctor"] == {
        "id": str(doctor.id), "name": "Dr. Ada Lovelace", "specialty": "Neurology",
        "active": True, "clinics": [{"name": "Annex"}, {"name": "Riverside"}],
    }  # fmt: skip
    async with sessions() as session:
        days = (
            await session.scalars(
                select(ScheduleTemplate.day_of_week)
                .where(ScheduleTemplate.doctor_id == doctor.id)
                .order_by(ScheduleTemplate.day_of_week)
            )
        ).all()
        appointments = await session.scalar(select(func.count()).select_from(Appointment))
    # Leaving Spare took its Wednesday block; the refused change left everything as it was.
    assert (list(days), appointments) == ([1, 2], 1)


async def test_update_clinic(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday, tuesday = await _week(sessions)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    assert [start for start, _ in await _slots(client, doctor, monday)] == [
        local(monday, 9, 0, NY).isoformat(), local(monday, 9, 30, NY).isoformat(),
    ]  # fmt: skip

    async def update(input_: dict[str, Any], who: Signed = admin) -> dict[str, Any]:
        return await graphql(
            client, UPDATE_CLINIC, {"id": str(clinic.id), "input": input_}, token=who.token
        )

    refusals = [
        await update({"name": "Mine"}, patient),
        await update({"timezone": "Mars/Olympus"}),
        await update({"cancellationCutoffHours": 721}),
        await update({"name": None}),
    ]
    missing = await graphql(
        client,
        UPDATE_CLINIC,
        {"id": "01a223ec-0000-7000-8000-000000000000", "input": {"name": "X"}},
        token=admin.token,
    )
    changed = await update(
        {"name": "Lakeside", "address": None, "timezone": "America/Chicago",
         "cancellationCutoffHours": 24}
    )  # fmt: skip

    assert [error_codes(body) for body in refusals] == [
        ["FORBIDDEN"], ["BAD_USER_INPUT"], ["BAD_USER_INPUT"], ["BAD_USER_INPUT"],
    ]  # fmt: skip
    assert error_codes(missing) == ["NOT_FOUND"]
    assert changed["data"]["updateClinic"] == {
        "id": str(clinic.id), "name": "Lakeside", "address": None,
        "timezone": "America/Chicago", "cancellationCutoffHours": 24,
    }  # fmt: skip
    # The same wall times, an hour later in real time: every cached day moved.
    chicago = "America/Chicago"
    for day in (monday, tuesday):
        assert [start for start, _ in await _slots(client, doctor, day)] == [
            local(day, 9, 0, chicago).isoformat(), local(day, 9, 30, chicago).isoformat(),
        ]  # fmt: skip
    clinics = await graphql(client, "query { clinics { name } }")
    assert clinics["data"]["clinics"] == [{"name": "Lakeside"}]
