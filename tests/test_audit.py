"""Every read and change of a patient's data leaves an audit row, written once per request."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, Role
from db.models import AuditEntry, DoctorClinic
from services.settings import Settings
from tests.support.api import graphql
from tests.support.factories import add_clinic, appointment
from tests.support.people import Person, person
from tests.support.statements import counting_statements


async def _audit_rows(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [
        {
            "actor_user_id": entry.actor_user_id,
            "actor_role": entry.actor_role,
            "action": entry.action,
            "patient_id": entry.patient_id,
            "resource": (entry.resource_type, entry.resource_id),
            "outcome": entry.outcome.value,
            "ip": str(entry.ip),
            "request_id": entry.request_id,
        }
        for entry in entries
    ]


async def _doctor_with_patient(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[Person, Person]:
    doctor = await person(sessions, settings, Role.DOCTOR, "Dr Dee")
    patient = await person(sessions, settings, Role.PATIENT, "Ann A")
    assert doctor.doctor is not None
    assert patient.patient is not None
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        session.add(DoctorClinic(doctor_id=doctor.doctor.id, clinic_id=clinic.id))
        await session.flush()
        session.add(
            appointment(
                doctor=doctor.doctor,
                patient=patient.patient,
                clinic=clinic,
                starts_at=datetime.now(UTC) + timedelta(days=3),
                status=AppointmentStatus.SCHEDULED,
            )
        )
    return doctor, patient


async def test_a_read_and_a_refused_read(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    doctor, ann = await _doctor_with_patient(sessions, settings)
    stranger = await person(sessions, settings, Role.PATIENT, "Ben B")
    assert ann.patient is not None
    query = "query P($id: ID!) { patient(id: $id) { name } }"
    variables = {"id": str(ann.patient.id)}

    await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {doctor.access_token}", "X-Request-ID": "read-1"},
    )
    await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {stranger.access_token}", "X-Request-ID": "read-2"},
    )

    assert await _audit_rows(sessions) == [
        {
            "actor_user_id": doctor.user.id,
            "actor_role": Role.DOCTOR,
            "action": "patient.read",
            "patient_id": ann.patient.id,
            "resource": ("Patient", str(ann.patient.id)),
            "outcome": "ALLOWED",
            "ip": "127.0.0.1",
            "request_id": "read-1",
        },
        {
            "actor_user_id": stranger.user.id,
            "actor_role": Role.PATIENT,
            "action": "patient.read",
            "patient_id": ann.patient.id,
            "resource": ("Patient", str(ann.patient.id)),
            "outcome": "DENIED",
            "ip": "127.0.0.1",
            "request_id": "read-2",
        },
    ]


async def test_a_write(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = await graphql(
        client,
        """mutation { registerPatient(input: {
            email: "new@example.test", password: "long enough", name: "New Patient"
        }) { user { id patient { id } } } }""",
    )

    user = body["data"]["registerPatient"]["user"]
    rows = await _audit_rows(sessions)
    # Registering, then reading the new profile back in the same request.
    assert [(r["action"], r["outcome"], str(r["actor_user_id"])) for r in rows] == [
        ("patient.register", "ALLOWED", user["id"]),
        ("patient.read", "ALLOWED", user["id"]),
    ]
    assert {str(r["patient_id"]) for r in rows} == {user["patient"]["id"]}


async def test_a_request_writes_its_audit_rows_in_one_statement(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _doctor, ann = await _doctor_with_patient(sessions, settings)
    assert ann.patient is not None
    aliases = " ".join(f'p{n}: patient(id: "{ann.patient.id}") {{ name }}' for n in range(3))

    with counting_statements() as log:
        await graphql(client, "{ " + aliases + " me { patient { id } } }", token=ann.access_token)

    audit_inserts = [
        s for s in log.statements if s.lstrip().upper().startswith("INSERT INTO AUDIT_LOG")
    ]
    assert len(audit_inserts) == 1
    # The loader reads the patient once per request, so once is audited.
    assert [(r["action"], r["outcome"]) for r in await _audit_rows(sessions)] == [
        ("patient.read", "ALLOWED")
    ]


async def test_the_access_log_tells_the_patient_who_read_what(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    doctor, ann = await _doctor_with_patient(sessions, settings)
    assert ann.patient is not None
    await graphql(
        client, "query P($id: ID!) { patient(id: $id) { name } }",
        {"id": str(ann.patient.id)}, token=doctor.access_token,
    )  # fmt: skip

    body = await graphql(
        client,
        """query L($id: ID!) { patient(id: $id) { accessLog(first: 10) {
            edges { node { actorName actorRole action resourceType outcome } }
            pageInfo { hasNextPage }
        } } }""",
        {"id": str(ann.patient.id)},
        token=ann.access_token,
    )

    assert body == {
        "data": {
            "patient": {
                "accessLog": {
                    "edges": [
                        {
                            "node": {
                                "actorName": "Dr Dee",
                                "actorRole": "DOCTOR",
                                "action": "patient.read",
                                "resourceType": "Patient",
                                "outcome": "ALLOWED",
                            }
                        }
                    ],
                    "pageInfo": {"hasNextPage": False},
                }
            }
        }
    }


async def test_a_long_request_id_from_the_client_is_audited_and_echoed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """A sane X-Request-ID may be up to 128 characters; the trail's column holds 64."""
    doctor, ann = await _doctor_with_patient(sessions, settings)
    assert ann.patient is not None
    sent = "r" * 128

    answer = await client.post(
        "/graphql",
        json={"query": "query P($id: ID!) { patient(id: $id) { name } }",
              "variables": {"id": str(ann.patient.id)}},
        headers={"Authorization": f"Bearer {doctor.access_token}", "X-Request-ID": sent},
    )  # fmt: skip

    body = answer.json()
    assert (answer.status_code, body["data"], "errors" in body) == (
        200, {"patient": {"name": "Ann A"}}, False
    )  # fmt: skip
    assert answer.headers["X-Request-ID"] == sent
    assert [(row["action"], row["request_id"]) for row in await _audit_rows(sessions)] == [
        ("patient.read", sent)
    ]
