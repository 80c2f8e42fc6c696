"""Admins set up clinics, doctors, templates and exceptions; nobody else can."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Clinic, Doctor, ScheduleTemplate
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.scheduling import signed_in

CLINIC = (
    "mutation C($input: CreateClinicInput!) { createClinic(input: $input) { id name timezone } }"
)
DOCTOR = """mutation D($input: CreateDoctorInput!) {
  createDoctor(input: $input) { id name specialty clinics { name } } }"""
TEMPLATE = """mutation T($input: ScheduleTemplateInput!) {
  addScheduleTemplate(input: $input) { dayOfWeek startTime endTime slotMinutes } }"""


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_an_admin_sets_up_a_clinic_a_doctor_and_a_week(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)

    clinic = await graphql(
        client, CLINIC, {"input": {"name": "Mitte", "timezone": "Europe/Berlin"}}, token=admin.token
    )
    clinic_id = clinic["data"]["createClinic"]["id"]
    doctor = await graphql(client, DOCTOR, {"input": {
        "email": "dr.k@example.test", "password": "long enough", "name": "Dr. K",
        "specialty": "Neurology", "clinicIds": [clinic_id]}}, token=admin.token)  # fmt: skip
    doctor_id = doctor["data"]["createDoctor"]["id"]
    block = {
        "doctorId": doctor_id,
        "clinicId": clinic_id,
        "dayOfWeek": 2,
        "startTime": "09:00",
        "endTime": "12:00",
    }
    first = await graphql(client, TEMPLATE, {"input": block}, token=admin.token)
    second = await graphql(
        client,
        TEMPLATE,
        {"input": {**block, "startTime": "13:00", "endTime": "17:00", "slotMinutes": 20}},
        token=admin.token,
    )
    overlapping = await graphql(
        client,
        TEMPLATE,
        {"input": {**block, "startTime": "11:00", "endTime": "14:00"}},
        token=admin.token,
    )

    assert clinic["data"]["createClinic"]["timezone"] == "Europe/Berlin"
    assert doctor["data"]["createDoctor"]["clinics"] == [{"name": "Mitte"}]
    assert first["data"]["addScheduleTemplate"] == {
        "dayOfWeek": 2,
        "startTime": "09:00:00",
        "endTime": "12:00:00",
        "slotMinutes": 30,
    }
    assert second["data"]["addScheduleTemplate"]["slotMinutes"] == 20
    assert [(e["message"], e["extensions"]["code"]) for e in overlapping["errors"]] == [
        ("This block overlaps another of the doctor's blocks on that weekday.", "BAD_USER_INPUT")
    ]
    assert await _count(sessions, ScheduleTemplate) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "CEST"}, "input.timezone: not an IANA time zone such as Europe/Berlin"),
        (
            {"timezone": "Mars/Olympus"},
            "input.timezone: not an IANA time zone such as Europe/Berlin",
        ),
        ({"name": " "}, "input.name: must not be blank"),
    ],
)
async def test_bad_clinics_are_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    change: dict[str, str], message: str,
) -> None:  # fmt: skip
    admin = await signed_in(sessions, settings, Role.ADMIN)

    body = await graphql(
        client, CLINIC, {"input": {"name": "X", "timezone": "UTC", **change}}, token=admin.token
    )

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    assert await _count(sessions, Clinic) == 0


async def test_only_admins_set_up(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    patient = await signed_in(sessions, settings, Role.PATIENT)

    as_patient = await graphql(
        client, CLINIC, {"input": {"name": "X", "timezone": "UTC"}}, token=patient.token
    )
    anonymous = await graphql(client, DOCTOR, {"input": {
        "email": "d@example.test", "password": "long enough", "name": "D", "specialty": "X", "clinicIds": []}})  # fmt: skip

    assert error_codes(as_patient) == ["FORBIDDEN"]
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert (await _count(sessions, Clinic), await _count(sessions, Doctor)) == (0, 0)


async def test_template_checks_are_bad_user_input(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)
    clinic = (
        await graphql(
            client, CLINIC, {"input": {"name": "A", "timezone": "UTC"}}, token=admin.token
        )
    )["data"]["createClinic"]["id"]
    other = (
        await graphql(
            client, CLINIC, {"input": {"name": "B", "timezone": "UTC"}}, token=admin.token
        )
    )["data"]["createClinic"]["id"]
    doctor = (await graphql(client, DOCTOR, {"input": {"email": "d@example.test", "password": "long enough",
        "name": "D", "specialty": "X", "clinicIds": [clinic]}}, token=admin.token))["data"]["createDoctor"]["id"]  # fmt: skip
    base = {
        "doctorId": doctor,
        "clinicId": clinic,
        "dayOfWeek": 1,
        "startTime": "09:00",
        "endTime": "12:00",
    }

    messages = [
        (await graphql(client, TEMPLATE, {"input": {**base, **change}}, token=admin.token))[
            "errors"
        ][0]["message"]
        for change in (
            {"dayOfWeek": 8},
            {"endTime": "08:00"},
            {"slotMinutes": 300},
            {"clinicId": other},
        )
    ]

    assert messages == [
        "`dayOfWeek` must be 1 (Monday) to 7 (Sunday).",
        "`endTime` must be after `startTime`.",
        "`slotMinutes` must be between 5 and 240.",
        "The doctor does not work at that clinic.",
    ]
    assert await _count(sessions, ScheduleTemplate) == 0
