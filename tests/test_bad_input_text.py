"""Strings are checked before the database: lengths of their columns, no control
characters, e-mail addresses, E.164 phones and IANA zones. Refused with BAD_USER_INPUT
naming the field, and nothing is stored."""

import json

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import Base
from db.enums import Role
from db.models import Clinic
from services.settings import Settings
from tests.support.api import graphql
from tests.support.scheduling import local, make_monday_world, signed_in

REGISTER = (
    "mutation R($input: RegisterPatientInput!) { registerPatient(input: $input) { accessToken } }"
)
CLINIC = "mutation C($input: CreateClinicInput!) { createClinic(input: $input) { id address } }"
DOCTOR = "mutation D($input: CreateDoctorInput!) { createDoctor(input: $input) { id } }"
BOOK = "mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"
UPLOAD = (
    "mutation U($input: RecordUploadInput!) { requestRecordUpload(input: $input) { uploadUrl } }"
)
AWAY = "mutation A($input: ScheduleExceptionInput!) { addScheduleException(input: $input) { id } }"
CANCEL = (
    "mutation X($id: ID!, $reason: String) { cancelAppointment(id: $id, reason: $reason) { id } }"
)
DOCTORS = "query S($specialty: String) { doctors(specialty: $specialty) { edges { node { id } } } }"
LOGIN = "mutation L($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }"
SOMEONE = "0193a000-0000-7000-8000-000000000000"

PATIENT = {"email": "ann@example.test", "password": "long enough", "name": "Ann Example"}
NEW_CLINIC = {"name": "Lakeside", "address": "1 Lake Rd", "timezone": "Europe/Berlin"}
NEW_DOCTOR = {"email": "dr@example.test", "password": "long enough", "name": "Dr. Who",
              "specialty": "Cardiology", "clinicIds": []}  # fmt: skip
CONTROL = "must not contain control characters"


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many rows each table has, audit rows aside (a refusal is audited)."""
    async with sessions() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name != "audit_log"
        }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "x" * 201}, "input.name: at most 200 characters"),
        ({"name": "Ann\x00Example"}, f"input.name: {CONTROL}"),
        ({"name": "Ann\x1bExample"}, f"input.name: {CONTROL}"),
        ({"name": "Ann\u0085Example"}, f"input.name: {CONTROL}"),
        (
            {"name": "Ann\ud800"},
            "input.name: must be valid Unicode (an unpaired surrogate was sent)",
        ),
        ({"email": f"{'a' * 64}@{'b' * 185}.example"}, "input.email: at most 254 characters"),
        ({"email": "<script>@x.example"}, "input.email: not a valid e-mail address"),
        ({"email": "ann@example"}, "input.email: not a valid e-mail address"),
        ({"email": "ann\x00@example.test"}, f"input.email: {CONTROL}"),
        ({"password": "long\x00enough"}, f"input.password: {CONTROL}"),
        ({"phone": "+1 415 555 0123"}, "input.phone: must be in E.164 form, e.g. +14155550123"),
    ],
)
async def test_bad_text_in_a_registration(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    change: dict[str, str], message: str,
) -> None:  # fmt: skip
    before = await _rows(sessions)
    # JSON's ASCII escapes carry what UTF-8 cannot: an unpaired surrogate.
    payload = json.dumps({"query": REGISTER, "variables": {"input": {**PATIENT, **change}}})

    response = await client.post(
        "/graphql", content=payload, headers={"Content-Type": "application/json"}
    )
    body = response.json()

    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": message,
            "locations": [{"line": 1, "column": 45}],
            "path": ["registerPatient"],
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]
    assert await _rows(sessions) == before


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (CLINIC, {"input": {**NEW_CLINIC, "name": "x" * 201}}, "input.name: at most 200 characters"),
        (CLINIC, {"input": {**NEW_CLINIC, "name": "a\x00b"}}, f"input.name: {CONTROL}"),
        (CLINIC, {"input": {**NEW_CLINIC, "address": "x" * 501}}, "input.address: at most 500 characters"),
        (CLINIC, {"input": {**NEW_CLINIC, "address": "1 Lake Rd\x00"}}, f"input.address: {CONTROL}"),
        (CLINIC, {"input": {**NEW_CLINIC, "timezone": "localtime"}}, "input.timezone: not an IANA time zone such as Europe/Berlin"),
        (CLINIC, {"input": {**NEW_CLINIC, "timezone": "Factory"}}, "input.timezone: not an IANA time zone such as Europe/Berlin"),
        (CLINIC, {"input": {**NEW_CLINIC, "timezone": "US/Eastern"}}, "input.timezone: not an IANA time zone such as Europe/Berlin"),
        (DOCTOR, {"input": {**NEW_DOCTOR, "specialty": "x" * 101}}, "input.specialty: at most 100 characters"),
        (DOCTOR, {"input": {**NEW_DOCTOR, "specialty": "Cardio\x00logy"}}, f"input.specialty: {CONTROL}"),
        (DOCTOR, {"input": {**NEW_DOCTOR, "email": "dr@@example.test"}}, "input.email: not a valid e-mail address"),
        (DOCTOR, {"input": {**NEW_DOCTOR, "clinicIds": [SOMEONE, "clinic-2"]}}, "input.clinicIds[1]: not a valid ID"),
        (AWAY, {"input": {"doctorId": SOMEONE, "startsAt": "2026-03-02T09:00:00Z",
                          "endsAt": "2026-03-02T10:00:00Z", "reason": "Conference\x00"}}, f"input.reason: {CONTROL}"),
    ],
)  # fmt: skip
async def test_bad_text_from_an_administrator(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    query: str, variables: dict[str, object], message: str,
) -> None:  # fmt: skip
    admin = await signed_in(sessions, settings, Role.ADMIN)
    before = await _rows(sessions)

    body = await graphql(client, query, variables, token=admin.token)

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    assert body["data"] is None
    assert await _rows(sessions) == before


async def test_an_address_may_have_several_lines(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)
    address = "1 Lake Rd\r\nSuite 4\tEast Wing\n" + "x" * 470

    body = await graphql(
        client, CLINIC, {"input": {**NEW_CLINIC, "address": address}}, token=admin.token
    )

    assert body["data"]["createClinic"]["address"] == address
    async with sessions() as session:
        assert await session.scalar(select(Clinic.address)) == address


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (DOCTORS, {"specialty": "Cardio\x00logy"}, f"specialty: {CONTROL}"),
        (DOCTORS, {"specialty": "x" * 101}, "specialty: at most 100 characters"),
        (LOGIN, {"email": "ann\x00@example.test", "password": "long enough"}, f"email: {CONTROL}"),
        (LOGIN, {"email": "ann@example.test", "password": "x" * 257}, "password: at most 256 characters"),
        ("mutation R($token: String!) { refreshToken(refreshToken: $token) { accessToken } }",
         {"token": "x" * 4097}, "refreshToken: at most 4096 characters"),
        ("query P($after: String) { doctors(after: $after) { edges { cursor } } }",
         {"after": "x" * 257}, "after: at most 256 characters"),
    ],
)  # fmt: skip
async def test_bad_text_from_anyone(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    query: str, variables: dict[str, object], message: str,
) -> None:  # fmt: skip
    before = await _rows(sessions)

    body = await graphql(client, query, variables)

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    assert await _rows(sessions) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "Checkup\x00"}, f"input.reason: {CONTROL}"),
        ({"reason": "x" * 2001}, "input.reason: at most 2000 characters"),
        ({"idempotencyKey": "k" * 129}, "input.idempotencyKey: at most 128 characters"),
        ({"idempotencyKey": " "}, "input.idempotencyKey: must not be blank"),
    ],
)
async def test_bad_text_in_a_booking(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    change: dict[str, str], message: str,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    before = await _rows(sessions)
    booking = {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
               "startsAt": local(monday, 10, 0, "America/New_York").isoformat()}  # fmt: skip

    body = await graphql(client, BOOK, {"input": {**booking, **change}}, token=patient.token)

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    assert await _rows(sessions) == before


async def test_bad_text_in_a_cancellation_and_an_upload(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    booked = await graphql(client, BOOK, {"input": {
        "doctorId": str(doctor.id), "clinicId": str(clinic.id),
        "startsAt": local(monday, 10, 0, "America/New_York").isoformat()}}, token=patient.token)  # fmt: skip
    appointment_id = booked["data"]["bookAppointment"]["id"]
    upload = {"patientId": str(patient.profile_id), "recordType": "LAB_REPORT", "title": "Blood panel",
              "fileName": "panel.pdf", "contentType": "application/pdf", "sizeBytes": 10}  # fmt: skip
    before = await _rows(sessions)

    cancel = await graphql(
        client, CANCEL, {"id": appointment_id, "reason": "Ill\x00"}, token=patient.token
    )
    title = await graphql(
        client, UPLOAD, {"input": {**upload, "title": "Blood\x00panel"}}, token=patient.token
    )
    file_name = await graphql(
        client, UPLOAD, {"input": {**upload, "fileName": "x" * 256}}, token=patient.token
    )

    assert [
        [(e["message"], e["extensions"]["code"]) for e in body["errors"]]
        for body in (cancel, title, file_name)
    ] == [
        [(f"reason: {CONTROL}", "BAD_USER_INPUT")],
        [(f"input.title: {CONTROL}", "BAD_USER_INPUT")],
        [("input.fileName: at most 255 characters", "BAD_USER_INPUT")],
    ]
    assert await _rows(sessions) == before
