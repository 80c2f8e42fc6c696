"""myPatients: a doctor's patients (an admin's: all), found by any part of a name or address
in any case; every patient shown is audited as read."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, AuditOutcome, Role
from db.models import AuditEntry, Clinic, Doctor, Patient
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic, add_doctor, add_user, appointment
from tests.support.scheduling import Signed, signed_in

MY_PATIENTS = """
query Mine($search: String, $first: Int, $after: String) {
  myPatients(search: $search, first: $first, after: $after) {
    edges { node { name email } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass(frozen=True)
class Practice:
    patients: dict[str, Patient]  # by first name
    doctor_a: Signed
    doctor_b: Signed
    admin: Signed


async def _patient(session: AsyncSession, name: str, email: str) -> Patient:
    user = await add_user(session, Role.PATIENT, email=email)
    patient = Patient(user_id=user.id, name=name)
    session.add(patient)
    await session.flush()
    return patient


async def _practice(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Practice:
    """Oldest to newest: Ada sees A, Ben saw A (cancelled), Cleo sees B, Dora nobody."""
    soon = datetime.now(UTC) + timedelta(days=3)
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        doctor_a = await add_doctor(session, "Dr. A", clinics=(clinic,))
        doctor_b = await add_doctor(session, "Dr. B", clinics=(clinic,))
        patients = {}
        for name, email in (
            ("Ada Lovelace", "ada@analytical.example"),
            ("Ben Müller", "ben.mueller@example.test"),
            ("Cleo Ward", "cleo@example.test"),
            ("Dora Lovett", "dora@example.test"),
        ):
            patients[name.split()[0]] = await _patient(session, name, email)
        await _appointments(session, clinic, doctor_a, doctor_b, patients, soon)
    return Practice(
        patients=patients,
        doctor_a=await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor_a),
        doctor_b=await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor_b),
        admin=await signed_in(sessions, settings, Role.ADMIN),
    )


async def _appointments(
    session: AsyncSession,
    clinic: Clinic,
    doctor_a: Doctor,
    doctor_b: Doctor,
    patients: dict[str, Patient],
    soon: datetime,
) -> None:
    for doctor, first_name, status in (
        (doctor_a, "Ada", AppointmentStatus.SCHEDULED),
        (doctor_a, "Ben", AppointmentStatus.CANCELLED),
        (doctor_b, "Cleo", AppointmentStatus.SCHEDULED),
    ):
        session.add(
            appointment(
                doctor=doctor,
                patient=patients[first_name],
                clinic=clinic,
                starts_at=soon,
                status=status,
            )
        )


def _names(body: dict[str, object]) -> list[str]:
    assert "errors" not in body, body
    edges = body["data"]["myPatients"]["edges"]  # type: ignore[index]
    return [edge["node"]["name"] for edge in edges]


async def test_each_sees_their_own_patients_newest_first(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    practice = await _practice(sessions, settings)
    patient = await signed_in(sessions, settings, Role.PATIENT, name="Eve Pat")

    of_a = await graphql(client, MY_PATIENTS, token=practice.doctor_a.token)
    of_b = await graphql(client, MY_PATIENTS, token=practice.doctor_b.token)
    of_admin = await graphql(client, MY_PATIENTS, {"first": 4}, token=practice.admin.token)
    refused = await graphql(client, MY_PATIENTS, token=patient.token)
    anonymous = await graphql(client, MY_PATIENTS)

    assert _names(of_a) == ["Ben Müller", "Ada Lovelace"]
    assert of_a["data"]["myPatients"]["edges"][0]["node"]["email"] == "ben.mueller@example.test"
    assert _names(of_b) == ["Cleo Ward"]
    assert _names(of_admin) == ["Eve Pat", "Dora Lovett", "Cleo Ward", "Ben Müller"]
    assert of_admin["data"]["myPatients"]["pageInfo"]["hasNextPage"] is True
    assert [(e["message"], e["extensions"]["code"]) for e in refused["errors"]] == [
        ("Only doctors and administrators have patients to list.", "FORBIDDEN")
    ]
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_search_matches_any_part_of_a_name_or_address_in_any_case(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    practice = await _practice(sessions, settings)

    async def names(search: str, who: Signed) -> list[str]:
        return _names(await graphql(client, MY_PATIENTS, {"search": search}, token=who.token))

    assert await names("LOVE", practice.admin) == ["Dora Lovett", "Ada Lovelace"]
    assert await names("love", practice.doctor_a) == ["Ada Lovelace"]
    assert await names("  üLLER ", practice.doctor_a) == ["Ben Müller"]
    assert await names("MÜLLER", practice.doctor_a) == ["Ben Müller"]
    assert await names("ANALYTICAL.EX", practice.doctor_a) == ["Ada Lovelace"]
    assert await names("ward", practice.doctor_a) == []
    assert await names("ward", practice.doctor_b) == ["Cleo Ward"]
    # Wildcards are letters like any other.
    assert await names("%", practice.admin) == []
    assert await names("_", practice.admin) == []
    assert await names("", practice.doctor_a) == ["Ben Müller", "Ada Lovelace"]


async def test_pages_follow_the_cursor(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    practice = await _practice(sessions, settings)
    seen: list[str] = []
    after = None
    while True:
        body = await graphql(
            client, MY_PATIENTS, {"first": 1, "after": after}, token=practice.admin.token
        )
        seen += _names(body)
        page = body["data"]["myPatients"]["pageInfo"]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert seen == ["Dora Lovett", "Cleo Ward", "Ben Müller", "Ada Lovelace"]


async def test_every_patient_listed_is_audited_as_read(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    practice = await _practice(sessions, settings)

    await graphql(client, MY_PATIENTS, token=practice.doctor_a.token)

    async with sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [
        (row.actor_user_id, row.actor_role, row.action, row.patient_id, row.outcome) for row in rows
    ] == [
        (
            practice.doctor_a.user_id,
            Role.DOCTOR,
            "patient.read",
            practice.patients[name].id,
            AuditOutcome.ALLOWED,
        )
        for name in ("Ben", "Ada")
    ]
