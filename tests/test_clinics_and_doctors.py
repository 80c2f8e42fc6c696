"""The public reads: clinics, doctors (a keyset-paged connection) and doctor."""

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Clinic, Doctor
from domain.pagination import Cursor
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic, add_doctor
from tests.support.statements import counting_statements

DOCTORS_PAGE = """
query Page($first: Int, $after: String, $specialty: String, $clinicId: ID) {
  doctors(first: $first, after: $after, specialty: $specialty, clinicId: $clinicId) {
    edges { cursor node { id name specialty clinics { name } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _clinics(sessions: async_sessionmaker[AsyncSession]) -> tuple[Clinic, Clinic]:
    async with sessions.begin() as session:
        return (
            await add_clinic(session, "Riverside", "America/New_York"),
            await add_clinic(session, "Mitte", "Europe/Berlin"),
        )


async def _doctors(
    sessions: async_sessionmaker[AsyncSession], count: int, clinics: tuple[Clinic, Clinic]
) -> list[Doctor]:
    doctors = []
    async with sessions.begin() as session:
        for n in range(count):
            specialty = "Cardiology" if n % 3 == 0 else "Dermatology"
            works_at = clinics if n % 2 == 0 else clinics[:1]
            doctors.append(
                await add_doctor(session, f"Dr. {n:02}", specialty=specialty, clinics=works_at)
            )
    return doctors


async def test_clinics_lists_every_clinic_by_name(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    riverside, mitte = await _clinics(sessions)

    body = await graphql(client, "{ clinics { id name address timezone } }")

    assert body == {
        "data": {
            "clinics": [
                {
                    "id": str(mitte.id),
                    "name": "Mitte",
                    "address": "1 Main St",
                    "timezone": "Europe/Berlin",
                },
                {
                    "id": str(riverside.id),
                    "name": "Riverside",
                    "address": "1 Main St",
                    "timezone": "America/New_York",
                },
            ]
        }
    }


async def test_paging_through_doctors_visits_each_once_newest_first(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    doctors = await _doctors(sessions, 23, await _clinics(sessions))
    newest_first = [str(doctor.id) for doctor in reversed(doctors)]

    seen: list[str] = []
    pages = []
    after = None
    while True:
        body = await graphql(client, DOCTORS_PAGE, {"first": 5, "after": after})
        connection = body["data"]["doctors"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        pages.append(len(connection["edges"]))
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]

    assert pages == [5, 5, 5, 5, 3]
    assert seen == newest_first


async def test_doctors_filters_by_specialty_and_clinic(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    riverside, mitte = await _clinics(sessions)
    doctors = await _doctors(sessions, 7, (riverside, mitte))

    cardiology = await graphql(client, DOCTORS_PAGE, {"specialty": "Cardiology"})
    at_mitte = await graphql(client, DOCTORS_PAGE, {"clinicId": str(mitte.id)})

    assert [e["node"]["name"] for e in cardiology["data"]["doctors"]["edges"]] == [
        "Dr. 06",
        "Dr. 03",
        "Dr. 00",
    ]
    assert [e["node"]["id"] for e in at_mitte["data"]["doctors"]["edges"]] == [
        str(doctors[n].id) for n in (6, 4, 2, 0)
    ]
    assert at_mitte["data"]["doctors"]["edges"][0]["node"]["clinics"] == [
        {"name": "Mitte"},
        {"name": "Riverside"},
    ]


async def test_clinics_of_twenty_doctors_cost_one_batched_statement(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _doctors(sessions, 20, await _clinics(sessions))

    with counting_statements() as one:
        await graphql(client, DOCTORS_PAGE, {"first": 1})
    with counting_statements() as twenty:
        body = await graphql(client, DOCTORS_PAGE, {"first": 20})

    assert len(body["data"]["doctors"]["edges"]) == 20
    # The page itself, then every doctor's clinics in one batch.
    assert one.count == twenty.count == 2


async def test_doctor_by_id(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (doctor,) = await _doctors(sessions, 1, await _clinics(sessions))
    query = "query One($id: ID!) { doctor(id: $id) { id name specialty clinics { timezone } } }"

    found = await graphql(client, query, {"id": str(doctor.id)})
    missing = await graphql(client, query, {"id": str(uuid.uuid4())})

    assert found == {
        "data": {
            "doctor": {
                "id": str(doctor.id),
                "name": "Dr. 00",
                "specialty": "Cardiology",
                "clinics": [{"timezone": "Europe/Berlin"}, {"timezone": "America/New_York"}],
            }
        }
    }
    assert missing == {"data": {"doctor": None}}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100, got 101."),
        ({"first": -1}, "`first` must be between 0 and 100, got -1."),
        ({"after": "not-a-cursor"}, "Invalid cursor in `after`."),
        ({"clinicId": "42"}, "clinicId: not a valid ID"),
    ],
)
async def test_bad_doctors_arguments_are_bad_user_input(
    client: httpx.AsyncClient, variables: dict[str, object], message: str
) -> None:
    body = await graphql(client, DOCTORS_PAGE, variables)

    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == [message]
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_cursor_round_trips_to_the_microsecond() -> None:
    cursor = Cursor(at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), id=str(uuid.UUID(int=7)))

    assert Cursor.decode(cursor.encode()) == cursor
