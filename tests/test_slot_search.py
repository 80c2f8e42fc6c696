"""searchSlots: the same slots, in the same order, as asking availableSlots for every doctor
and every day; paged by keyset; its statements do not grow with the number of doctors."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus
from db.models import Clinic, Doctor, ScheduleException
from domain.clock import clock
from loaders import slot_search
from tests.support.api import error_codes, graphql
from tests.support.calendar import CALENDAR_INSTANTS
from tests.support.factories import add_clinic, add_doctor, add_patient, appointment
from tests.support.scheduling import add_template
from tests.support.statements import counting_statements

SEARCH = """
query Search($filter: SlotSearchInput!, $first: Int, $after: String) {
  searchSlots(filter: $filter, first: $first, after: $after) {
    edges { cursor node { startsAt endsAt available doctor { id } clinic { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
EVERY_DAY = range(1, 8)
# Three days at three hours, and the eves of DST changes (the window spans them).
SEARCH_INSTANTS = [
    instant
    for instant in CALENDAR_INSTANTS
    if str(getattr(instant, "id", "")).startswith(("Mon-0030", "Wed-1330", "Sun-2330", "eve-"))
]

# (startsAt as shown, doctor id, clinic id)
Found = tuple[str, str, str]


@dataclass(frozen=True)
class World:
    ny: Clinic
    berlin: Clinic
    doctors: dict[str, Doctor]  # by a short name
    specialties: dict[str, str]  # doctor id -> specialty


async def _world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with sessions.begin() as session:
        ny = await add_clinic(session, "Riverside", "America/New_York")
        berlin = await add_clinic(session, "Spree", "Europe/Berlin")
        doctors = {
            "ny": await add_doctor(session, "Dr. Ny", "Dermatology", (ny,)),
            "berlin": await add_doctor(session, "Dr. Berlin", "Dermatology", (berlin,)),
            "both": await add_doctor(session, "Dr. Both", "Dermatology", (ny, berlin)),
            "inactive": await add_doctor(session, "Dr. Gone", "Dermatology", (ny, berlin)),
            "heart": await add_doctor(session, "Dr. Heart", "Cardiology", (ny,)),
        }
    for day in EVERY_DAY:
        # Late in New York is already the next date in Berlin, where a day starts early:
        # a date's slots are not all before the next date's.
        await add_template(sessions, doctors["ny"], ny, day, time(9), time(12))
        await add_template(sessions, doctors["ny"], ny, day, time(18), time(23, 30))
        await add_template(sessions, doctors["berlin"], berlin, day, time(0, 30), time(2), 20)
        await add_template(sessions, doctors["berlin"], berlin, day, time(8), time(10), 20)
        await add_template(sessions, doctors["berlin"], berlin, day, time(14), time(15), 15)
        # Two clinics in two zones; Berlin's 15:00 is New York's 09:00 in winter, when
        # Dr. Ny starts too: the same instant, in the order of the doctors' ids.
        clinic, start = (berlin, time(15)) if day % 2 else (ny, time(9))
        await add_template(sessions, doctors["both"], clinic, day, start, time(start.hour + 2))
        await add_template(sessions, doctors["inactive"], ny, day, time(9), time(17))
        await add_template(sessions, doctors["heart"], ny, day, time(9), time(11), 30)
    await add_template(sessions, doctors["both"], berlin, 2, time(8), time(9), 30)
    async with sessions.begin() as session:
        await session.execute(
            update(Doctor).where(Doctor.id == doctors["inactive"].id).values(active=False)
        )
    specialties = {str(d.id): d.specialty for d in doctors.values()}
    return World(ny, berlin, doctors, specialties)


def _dates(start: datetime, end: datetime) -> list[date]:
    """Every date that [start, end) touches somewhere on Earth."""
    first, last = (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def _brute_force(
    client: httpx.AsyncClient,
    world: World,
    start: datetime,
    end: datetime,
    *,
    specialty: str | None = None,
    clinic: Clinic | None = None,
    doctors: list[Doctor] | None = None,
) -> list[Found]:
    """availableSlots for every doctor (inactive ones too) and every date, merged."""
    found: list[tuple[tuple[datetime, uuid.UUID, uuid.UUID], Found]] = []
    for doctor in world.doctors.values():
        if specialty is not None and doctor.specialty != specialty:
            continue
        if doctors is not None and doctor not in doctors:
            continue
        fields = [
            f"""d{n}: availableSlots(doctorId: "{doctor.id}", date: "{day}"
                {f'clinicId: "{clinic.id}"' if clinic else ""}) {{
              startsAt available clinic {{ id }} }}"""
            for n, day in enumerate(_dates(start, end))
        ]
        body = await graphql(client, "query { " + " ".join(fields) + " }")
        assert "errors" not in body, body
        for slots in body["data"].values():
            for slot in slots:
                at = datetime.fromisoformat(slot["startsAt"])
                if slot["available"] and start <= at < end:
                    order = (at.astimezone(UTC), doctor.id, uuid.UUID(slot["clinic"]["id"]))
                    found.append((order, (slot["startsAt"], str(doctor.id), slot["clinic"]["id"])))
    return [entry for _, entry in sorted(found)]


async def _search(client: httpx.AsyncClient, search: dict[str, Any], first: int = 7) -> list[Found]:
    """Every page, following the cursors."""
    found: list[Found] = []
    after = None
    while True:
        body = await graphql(client, SEARCH, {"filter": search, "first": first, "after": after})
        assert "errors" not in body, body
        connection = body["data"]["searchSlots"]
        for edge in connection["edges"]:
            node = edge["node"]
            assert node["available"] is True
            found.append((node["startsAt"], node["doctor"]["id"], node["clinic"]["id"]))
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


async def _bookings_and_absences(
    sessions: async_sessionmaker[AsyncSession], world: World, free: list[Found]
) -> None:
    """Book some of the free slots, cancel one, and send two doctors away."""
    by_doctor: dict[str, list[Found]] = {}
    for entry in free:
        by_doctor.setdefault(entry[1], []).append(entry)
    ny, berlin, both = (by_doctor[str(world.doctors[n].id)] for n in ("ny", "berlin", "both"))
    clinics = {str(world.ny.id): world.ny, str(world.berlin.id): world.berlin}
    async with sessions.begin() as session:
        patients = [await add_patient(session, f"Pat {n}") for n in range(4)]
        for patient, (at, doctor_id, clinic_id), status, minutes in (
            (patients[0], ny[3], AppointmentStatus.SCHEDULED, 30),
            (patients[1], ny[10], AppointmentStatus.SCHEDULED, 30),
            (patients[2], ny[12], AppointmentStatus.CANCELLED, 30),
            (patients[3], berlin[5], AppointmentStatus.SCHEDULED, 20),
        ):
            doctor = next(d for d in world.doctors.values() if str(d.id) == doctor_id)
            session.add(
                appointment(
                    doctor=doctor,
                    patient=patient,
                    clinic=clinics[clinic_id],
                    starts_at=datetime.fromisoformat(at),
                    minutes=minutes,
                    status=status,
                )
            )
        away_berlin = datetime.fromisoformat(berlin[20][0])
        away_both = datetime.fromisoformat(both[2][0])
        session.add_all(
            [
                ScheduleException(
                    doctor_id=world.doctors["berlin"].id,
                    starts_at=away_berlin,
                    ends_at=away_berlin + timedelta(minutes=90),
                ),
                ScheduleException(
                    doctor_id=world.doctors["both"].id,
                    starts_at=away_both,
                    ends_at=away_both + timedelta(hours=24),
                ),
            ]
        )


@pytest.fixture(params=SEARCH_INSTANTS)
def search_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    instant: datetime = request.param
    with clock.travel_to(instant):
        yield instant


async def test_search_finds_what_available_slots_finds_for_every_doctor_and_day(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    search_now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two days read at a time: the search stops early often, and must stop right.
    monkeypatch.setattr(slot_search, "BATCH", 2)
    world = await _world(sessions)
    start, end = search_now - timedelta(hours=26), search_now + timedelta(days=8, hours=3)
    dermatology = {"from": start.isoformat(), "to": end.isoformat(), "specialty": "Dermatology"}
    await _bookings_and_absences(
        sessions, world, await _brute_force(client, world, start, end, specialty="Dermatology")
    )
    await redis.flushdb()  # the rows above were written behind the cache's back
    window = {"from": start.isoformat(), "to": end.isoformat()}
    picked = [world.doctors[name] for name in ("ny", "inactive", "heart")]

    cold = await _search(client, dermatology)
    expected = await _brute_force(client, world, start, end, specialty="Dermatology")
    warm = await _search(client, dermatology)
    in_berlin = await _search(client, {**window, "clinicId": str(world.berlin.id)}, first=5)
    by_ids = await _search(client, {**window, "doctorIds": [str(d.id) for d in picked]}, first=100)

    assert len(expected) > 100  # bookings, absences and the past leave plenty
    assert cold == warm == expected
    assert {doctor_id for _, doctor_id, _ in cold} == {
        str(world.doctors[name].id) for name in ("ny", "berlin", "both")
    }
    assert in_berlin == await _brute_force(client, world, start, end, clinic=world.berlin)
    assert by_ids == await _brute_force(client, world, start, end, doctors=picked)
    assert {doctor_id for _, doctor_id, _ in by_ids} == {
        str(world.doctors["ny"].id),
        str(world.doctors["heart"].id),
    }


async def _many_doctors(sessions: async_sessionmaker[AsyncSession], count: int) -> list[Doctor]:
    async with sessions.begin() as session:
        clinic = await add_clinic(session, "Riverside", "America/New_York")
        doctors = [
            await add_doctor(session, f"Dr. {n}", "Neurology", (clinic,)) for n in range(count)
        ]
    for doctor in doctors:
        for day in EVERY_DAY:
            await add_template(sessions, doctor, clinic, day, time(9), time(10))
    return doctors


async def test_statements_do_not_grow_with_the_number_of_doctors(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    doctors = await _many_doctors(sessions, 50)
    # Midnight UTC is far from 09:00 in New York: seven days hold seven of each slot.
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=2), time(0), UTC)
    window = {"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()}
    two = {**window, "doctorIds": [str(doctor.id) for doctor in doctors[:2]]}
    fifty = {**window, "specialty": "Neurology"}
    await graphql(client, SEARCH, {"filter": two})  # the process learns the clinics
    await redis.flushdb()

    with counting_statements() as cold_two:
        two_doctors = await graphql(client, SEARCH, {"filter": two, "first": 100})
    with counting_statements() as cold_fifty:
        fifty_doctors = await graphql(client, SEARCH, {"filter": fifty, "first": 100})
    with counting_statements() as warm_fifty:
        again = await graphql(client, SEARCH, {"filter": fifty, "first": 100})

    # The doctors, then every day not cached; Slot.doctor costs nothing more.
    assert (cold_two.count, cold_fifty.count, warm_fifty.count) == (2, 2, 1)
    assert len(two_doctors["data"]["searchSlots"]["edges"]) == 2 * 2 * 7
    assert len(fifty_doctors["data"]["searchSlots"]["edges"]) == 100
    assert again == fifty_doctors


async def test_the_window_is_checked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    start = datetime(2027, 1, 4, 9, tzinfo=UTC)
    cases = [
        (start + timedelta(days=31, seconds=1), "`from` and `to` may be at most 31 days apart."),
        (start, "`to` must be after `from`."),
    ]
    for end, message in cases:
        body = await graphql(
            client, SEARCH, {"filter": {"from": start.isoformat(), "to": end.isoformat()}}
        )
        assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
            (message, "BAD_USER_INPUT")
        ]
    month = {"from": start.isoformat(), "to": (start + timedelta(days=31)).isoformat()}
    assert (await graphql(client, SEARCH, {"filter": month}))["data"]["searchSlots"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    too_many = await graphql(client, SEARCH, {"filter": month, "first": 101})
    assert error_codes(too_many) == ["BAD_USER_INPUT"]
