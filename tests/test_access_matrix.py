"""Who may read a patient's data: every role against every operation, exactly."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, Role
from db.models import DoctorClinic
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic, appointment
from tests.support.people import Person, person

PROFILE = "query P($id: ID!) { patient(id: $id) { id name email } }"
ACCESS_LOG = "query L($id: ID!) { patient(id: $id) { accessLog(first: 5) { edges { cursor } } } }"


@dataclass
class Cast:
    a: Person
    b: Person
    doctor_of_a: Person
    other_doctor: Person
    admin: Person

    def token(self, who: str) -> str | None:
        return None if who == "anonymous" else getattr(self, who).access_token


@pytest.fixture
async def cast(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Cast:
    people = Cast(
        a=await person(sessions, settings, Role.PATIENT, "Ann A"),
        b=await person(sessions, settings, Role.PATIENT, "Ben B"),
        doctor_of_a=await person(sessions, settings, Role.DOCTOR, "Dr Dee"),
        other_doctor=await person(sessions, settings, Role.DOCTOR, "Dr Other"),
        admin=await person(sessions, settings, Role.ADMIN, "Ada Admin"),
    )
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        assert people.doctor_of_a.doctor is not None
        assert people.a.patient is not None
        session.add(DoctorClinic(doctor_id=people.doctor_of_a.doctor.id, clinic_id=clinic.id))
        await session.flush()
        # A past appointment is enough: "has or had" an appointment.
        session.add(
            appointment(
                doctor=people.doctor_of_a.doctor,
                patient=people.a.patient,
                clinic=clinic,
                starts_at=datetime.now(UTC) - timedelta(days=30),
                status=AppointmentStatus.COMPLETED,
            )
        )
    return people


CALLERS = ["anonymous", "a", "b", "doctor_of_a", "other_doctor", "admin"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    list(
        zip(
            CALLERS,
            ["UNAUTHENTICATED", "data", "FORBIDDEN", "data", "FORBIDDEN", "data"],
            strict=True,
        )
    ),
)
async def test_patient_profile(
    client: httpx.AsyncClient, cast: Cast, caller: str, expected: str
) -> None:
    assert cast.a.patient is not None
    body = await graphql(client, PROFILE, {"id": str(cast.a.patient.id)}, token=cast.token(caller))

    if expected == "data":
        assert body == {
            "data": {
                "patient": {
                    "id": str(cast.a.patient.id),
                    "name": "Ann A",
                    "email": "ann.a@example.test",
                }
            }
        }
    else:
        assert body["data"] == {"patient": None}
        assert error_codes(body) == [expected]


@pytest.mark.parametrize(
    ("caller", "expected"),
    list(
        zip(
            CALLERS,
            ["UNAUTHENTICATED", "data", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "data"],
            strict=True,
        )
    ),
)
async def test_patient_access_log(
    client: httpx.AsyncClient, cast: Cast, caller: str, expected: str
) -> None:
    assert cast.a.patient is not None
    body = await graphql(
        client, ACCESS_LOG, {"id": str(cast.a.patient.id)}, token=cast.token(caller)
    )

    if expected == "data":
        assert "errors" not in body
        assert body["data"]["patient"]["accessLog"] == {"edges": []}
    else:
        assert body["data"] == {"patient": None}
        assert error_codes(body) == [expected]


@pytest.mark.parametrize(
    ("caller", "expected"),
    list(
        zip(
            CALLERS,
            ["UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "null"],
            strict=True,
        )
    ),
)
async def test_unknown_patient_looks_like_a_forbidden_one_except_to_admins(
    client: httpx.AsyncClient, cast: Cast, caller: str, expected: str
) -> None:
    body = await graphql(client, PROFILE, {"id": str(uuid.uuid4())}, token=cast.token(caller))

    assert body["data"] == {"patient": None}
    assert error_codes(body) == ([] if expected == "null" else [expected])


async def test_me_shows_each_role_its_own_profile(client: httpx.AsyncClient, cast: Cast) -> None:
    query = "{ me { role patient { name } doctor { name } } }"

    answers = {
        who: (await graphql(client, query, token=cast.token(who)))["data"]["me"] for who in CALLERS
    }

    assert answers == {
        "anonymous": None,
        "a": {"role": "PATIENT", "patient": {"name": "Ann A"}, "doctor": None},
        "b": {"role": "PATIENT", "patient": {"name": "Ben B"}, "doctor": None},
        "doctor_of_a": {"role": "DOCTOR", "patient": None, "doctor": {"name": "Dr Dee"}},
        "other_doctor": {"role": "DOCTOR", "patient": None, "doctor": {"name": "Dr Other"}},
        "admin": {"role": "ADMIN", "patient": None, "doctor": None},
    }
