"""Well-formed ids of nothing: NOT_FOUND for admins, who may see everything, FORBIDDEN
for anyone else. An idempotency key reused for another booking: CONFLICT."""

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Appointment, MedicalRecord
from services.settings import Settings
from tests.support.api import graphql
from tests.support.scheduling import local, make_monday_world, signed_in

SOMEONE = "0193a000-0000-7000-8000-000000000000"  # well-formed, and nobody's
NY = "America/New_York"
BOOK = "mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"
UPLOAD = (
    "mutation U($input: RecordUploadInput!) { requestRecordUpload(input: $input) { uploadUrl } }"
)
CANCEL = "mutation C($id: ID!) { cancelAppointment(id: $id) { id } }"
RESCHEDULE = 'mutation R($id: ID!) { rescheduleAppointment(id: $id, startsAt: "2026-03-02T09:00:00Z") { id } }'
KEY_REUSED = (
    "This idempotencyKey was already used for a different booking; "
    "send a new key with a new request."
)
CLOSE = "mutation S($id: ID!) { setAppointmentStatus(id: $id, status: COMPLETED) { id } }"


def _refusal(body: dict[str, object]) -> list[tuple[str, str]]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return [(error["message"], error["extensions"]["code"]) for error in errors]


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_an_upload_for_a_patient_who_does_not_exist(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)
    upload = {"patientId": SOMEONE, "recordType": "LAB_REPORT", "title": "Blood panel",
              "fileName": "panel.pdf", "contentType": "application/pdf", "sizeBytes": 10}  # fmt: skip

    body = await graphql(client, UPLOAD, {"input": upload}, token=admin.token)

    assert _refusal(body) == [("No patient has that id.", "NOT_FOUND")]
    assert await _count(sessions, MedicalRecord) == 0


@pytest.mark.parametrize(
    ("role", "mutation", "expected"),
    [
        (Role.ADMIN, CANCEL, ("No appointment has that id.", "NOT_FOUND")),
        (Role.ADMIN, RESCHEDULE, ("No appointment has that id.", "NOT_FOUND")),
        (Role.ADMIN, CLOSE, ("No appointment has that id.", "NOT_FOUND")),
        (Role.PATIENT, CANCEL, ("You may not change this appointment.", "FORBIDDEN")),
        (Role.PATIENT, RESCHEDULE, ("You may not change this appointment.", "FORBIDDEN")),
        (Role.DOCTOR, CLOSE, ("You may not change this appointment.", "FORBIDDEN")),
    ],
)
async def test_changing_an_appointment_that_does_not_exist(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    role: Role, mutation: str, expected: tuple[str, str],
) -> None:  # fmt: skip
    _, doctor, _ = await make_monday_world(sessions)
    caller = await signed_in(sessions, settings, role, doctor=doctor)

    body = await graphql(client, mutation, {"id": SOMEONE}, token=caller.token)

    assert _refusal(body) == [expected]


async def test_a_key_reused_for_another_booking_is_a_conflict(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    first = {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
             "startsAt": local(monday, 10, 0, NY).isoformat(), "idempotencyKey": "k-1"}  # fmt: skip

    booked = await graphql(client, BOOK, {"input": first}, token=patient.token)
    retried = await graphql(client, BOOK, {"input": first}, token=patient.token)
    other_time = await graphql(
        client, BOOK, {"input": {**first, "startsAt": local(monday, 10, 30, NY).isoformat()}},
        token=patient.token,
    )  # fmt: skip
    other_reason = await graphql(
        client, BOOK, {"input": {**first, "reason": "Something else"}}, token=patient.token
    )

    assert retried == booked
    assert _refusal(other_time) == _refusal(other_reason) == [(KEY_REUSED, "CONFLICT")]
    assert await _count(sessions, Appointment) == 1


async def test_concurrent_requests_with_one_key_book_once_and_conflict_otherwise(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    times = [local(monday, 10, 0, NY), local(monday, 10, 30, NY)]
    requests = [
        {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
         "startsAt": times[n % 2].isoformat(), "idempotencyKey": "k-race"}
        for n in range(20)
    ]  # fmt: skip

    bodies = await asyncio.gather(
        *(graphql(client, BOOK, {"input": request}, token=patient.token) for request in requests)
    )

    async with sessions() as session:
        winner = await session.scalar(select(Appointment))
    assert winner is not None
    for request, body in zip(requests, bodies, strict=True):
        if request["startsAt"] == winner.starts_at.astimezone(times[0].tzinfo).isoformat():
            assert body == {"data": {"bookAppointment": {"id": str(winner.id)}}}
        else:
            assert _refusal(body) == [(KEY_REUSED, "CONFLICT")]
    assert await _count(sessions, Appointment) == 1
