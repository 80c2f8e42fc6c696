"""slotsChanged over graphql-transport-ws: the day at once, then after every committed
change, from whichever process made it; the token in connection_init; the caps."""

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Collection
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Appointment, Clinic, Doctor
from devtools.embedded.process import free_port
from devtools.embedded.redis import EmbeddedRedis
from services.auth.tokens import ACCESS_TOKEN_LIFETIME
from services.settings import Settings
from tests.support.api import graphql, serving
from tests.support.live import SLOTS_CHANGED, LiveClient, live_socket, signed_socket
from tests.support.people import token_service
from tests.support.processes import running, until_answers
from tests.support.scheduling import book_via_api, local, make_monday_world, signed_in
from tests.support.servers import Servers
from tests.test_outages import paused, until_ready

NY = "America/New_York"


def _day(monday: date, booked: Collection[datetime] = ()) -> list[dict[str, Any]]:
    """The Monday world's day as slotsChanged sends it: 09:00 to 12:00 by 30 minutes."""
    starts = [local(monday, 9, 0, NY) + timedelta(minutes=30 * n) for n in range(6)]
    return [
        {
            "startsAt": start.isoformat(),
            "endsAt": (start + timedelta(minutes=30)).isoformat(),
            "available": start not in booked,
            "clinic": {"name": "Riverside"},
        }
        for start in starts
    ]


async def _next_slots(client: LiveClient, id_: str = "1") -> list[dict[str, Any]]:
    message = await client.receive()
    assert (message["type"], message["id"]) == ("next", id_), message
    assert "errors" not in message["payload"], message
    slots: list[dict[str, Any]] = message["payload"]["data"]["slotsChanged"]
    return slots


def _variables(doctor: Doctor, day: date) -> dict[str, str]:
    return {"doctorId": str(doctor.id), "date": day.isoformat()}


async def _appointments(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Appointment)) or 0


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> tuple[Clinic, Doctor, date]:
    return await make_monday_world(sessions)


async def test_the_day_at_once_then_after_a_booking(
    api_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    async with signed_socket(api_url, patient.token) as live:
        await live.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await _next_slots(live) == _day(monday)

        ten = local(monday, 10, 0, NY)
        await book_via_api(client, clinic, doctor, ten, patient)

        assert await _next_slots(live) == _day(monday, {ten})


def _serve_env(servers: Servers, settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "S3_ENDPOINT_URL": servers.s3_endpoint_url,
        "S3_BUCKET": settings.s3_bucket,
        # The same signing keys as the tokens the test makes.
        "MEDAPPT_DATA_DIR": str(settings.data_dir),
    }


async def test_a_booking_through_one_process_reaches_a_subscriber_on_another(
    migrated: Servers, settings: Settings, sessions: async_sessionmaker[AsyncSession],
    world: tuple[Clinic, Doctor, date], tmp_path: Path,
) -> None:  # fmt: skip
    """Two `medappt serve` processes sharing PostgreSQL and Redis, as in production."""
    clinic, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    watcher = await signed_in(sessions, settings, Role.PATIENT, name="Wat Cher")
    env = _serve_env(migrated, settings)
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    commands = [["serve", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1]] for url in urls]
    async with running(commands[0], env, logs[0]) as a, running(commands[1], env, logs[1]) as b:
        await until_answers(f"{urls[0]}/health", a, logs[0])
        await until_answers(f"{urls[1]}/health", b, logs[1])
        async with (
            signed_socket(urls[1], watcher.token) as on_b,
            httpx.AsyncClient(base_url=urls[0], timeout=30) as to_a,
        ):
            await on_b.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
            assert await _next_slots(on_b) == _day(monday)

            half_past_nine = local(monday, 9, 30, NY)
            await book_via_api(to_a, clinic, doctor, half_past_nine, patient)
            after_booking = await _next_slots(on_b)

            assert await _appointments(sessions) == 1
            refused = await graphql(
                to_a, BOOK_AGAIN, _booking(clinic, doctor, half_past_nine), token=watcher.token
            )
            cancelled = await graphql(
                to_a, CANCEL, {"id": (await _only_appointment(sessions))}, token=patient.token
            )
            after_cancel = await _next_slots(on_b)

    assert after_booking == _day(monday, {half_past_nine})
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["SLOT_UNAVAILABLE"]
    assert cancelled == {"data": {"cancelAppointment": {"status": "CANCELLED"}}}
    assert after_cancel == _day(monday)


async def test_open_subscriptions_hold_no_database_connection(
    migrated: Servers, settings: Settings, sessions: async_sessionmaker[AsyncSession],
    world: tuple[Clinic, Doctor, date], tmp_path: Path,
) -> None:  # fmt: skip
    _, doctor, monday = world
    watcher = await signed_in(sessions, settings, Role.PATIENT, name="Wat Cher")
    url = f"http://127.0.0.1:{free_port()}"
    command = ["serve", "--workers", "1", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1]]
    async with running(command, _serve_env(migrated, settings), tmp_path / "serve.log") as serve:
        await until_answers(f"{url}/health", serve, tmp_path / "serve.log")
        async with signed_socket(url, watcher.token) as live, httpx.AsyncClient() as http:
            for n in range(1, 6):
                await live.subscribe(str(n), SLOTS_CHANGED, _variables(doctor, monday))
                assert await _next_slots(live, str(n)) == _day(monday)
            scrape = (await http.get(f"{url}/metrics")).text

    in_use = 'medappt_db_pool_connections{pool="primary",state="in_use"}'
    assert [line for line in scrape.splitlines() if line.startswith(in_use)] == [f"{in_use} 0.0"]


BOOK_AGAIN = "mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"
CANCEL = "mutation C($id: ID!) { cancelAppointment(id: $id) { status } }"


def _booking(clinic: Clinic, doctor: Doctor, at: datetime) -> dict[str, Any]:
    return {
        "input": {
            "doctorId": str(doctor.id),
            "clinicId": str(clinic.id),
            "startsAt": at.isoformat(),
        }
    }


async def _only_appointment(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as session:
        return str((await session.scalars(select(Appointment.id))).one())


async def test_a_change_to_another_doctor_or_day_sends_nothing(
    api_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    other_clinic, other_doctor, _ = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    next_monday = monday + timedelta(days=7)
    async with signed_socket(api_url, patient.token) as live:
        await live.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await _next_slots(live) == _day(monday)

        await book_via_api(client, other_clinic, other_doctor, local(monday, 9, 0, NY), patient)
        # A schedule exception on another date of the same doctor (invalidate_days).
        admin = await signed_in(sessions, settings, Role.ADMIN)
        away = await graphql(
            client,
            ADD_EXCEPTION,
            {"input": {
                "doctorId": str(doctor.id),
                "startsAt": local(next_monday, 9, 0, NY).isoformat(),
                "endsAt": local(next_monday, 10, 0, NY).isoformat(),
            }},
            token=admin.token,
        )  # fmt: skip
        assert "errors" not in away, away
        # Then one that is ours: had the others sent anything, it would come first.
        eleven = local(monday, 11, 0, NY)
        await book_via_api(client, clinic, doctor, eleven, patient)

        assert await _next_slots(live) == _day(monday, {eleven})


ADD_EXCEPTION = """
mutation Away($input: ScheduleExceptionInput!) { addScheduleException(input: $input) { id } }
"""


async def test_a_schedule_exception_on_the_day_is_sent(
    api_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    admin = await signed_in(sessions, settings, Role.ADMIN)
    async with signed_socket(api_url, admin.token) as live:
        await live.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await _next_slots(live) == _day(monday)

        away = await graphql(
            client,
            ADD_EXCEPTION,
            {"input": {
                "doctorId": str(doctor.id),
                "startsAt": local(monday, 9, 0, NY).isoformat(),
                "endsAt": local(monday, 10, 0, NY).isoformat(),
            }},
            token=admin.token,
        )  # fmt: skip
        assert "errors" not in away, away

        nine, half_past = local(monday, 9, 0, NY), local(monday, 9, 30, NY)
        assert await _next_slots(live) == _day(monday, {nine, half_past})


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"},
     {"Authorization": 42}],
    ids=["no payload", "no token", "not a token", "not bearer", "not a string"],
)  # fmt: skip
async def test_a_connection_without_a_valid_token_is_closed_with_4401(
    api_url: str, sessions: async_sessionmaker[AsyncSession], payload: dict[str, Any] | None,
) -> None:  # fmt: skip
    async with live_socket(api_url) as live:
        await live.init(payload)
        assert await live.closed_with() == (4401, UNAUTHORIZED)


UNAUTHORIZED = "Unauthorized: send a valid access token in connection_init."


async def test_a_revoked_token_is_closed_with_4401(
    api_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    async with signed_socket(api_url, patient.token) as open_before:
        await open_before.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await _next_slots(open_before) == _day(monday)
        assert await graphql(client, "mutation { logout }", token=patient.token) == {
            "data": {"logout": True}
        }
        async with live_socket(api_url) as after:
            await after.init({"Authorization": f"Bearer {patient.token}"})
            assert await after.closed_with() == (4401, UNAUTHORIZED)
        # A connection opened before is closed at its next subscribe.
        await open_before.subscribe("2", SLOTS_CHANGED, _variables(doctor, monday))
        assert await open_before.closed_with() == (4401, UNAUTHORIZED)


async def test_subscribe_before_connection_init_is_closed_with_4401(
    api_url: str, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    async with live_socket(api_url) as live:
        await live.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await live.closed_with() == (4401, "Unauthorized")


@pytest.fixture
async def capped_url(settings: Settings, migrated: Servers) -> AsyncIterator[str]:
    capped = dataclasses.replace(
        settings, max_subscriptions_per_connection=2, max_subscriptions_per_user=3
    )
    async with serving(capped) as url:
        yield url


def _refusal(id_: str, message: str) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "error",
        "payload": [{"message": message, "extensions": {"code": "RATE_LIMITED", "retryAfter": 1}}],
    }


async def test_subscriptions_over_the_caps_are_refused(
    capped_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    variables = _variables(doctor, monday)
    async with (
        signed_socket(capped_url, patient.token) as first,
        signed_socket(capped_url, patient.token) as second,
    ):
        for id_ in ("1", "2"):
            await first.subscribe(id_, SLOTS_CHANGED, variables)
            assert await _next_slots(first, id_) == _day(monday)
        await first.subscribe("3", SLOTS_CHANGED, variables)
        assert await first.receive() == _refusal(
            "3", "At most 2 subscriptions may be open on one connection; complete one first."
        )
        await second.subscribe("1", SLOTS_CHANGED, variables)
        assert await _next_slots(second) == _day(monday)
        await second.subscribe("2", SLOTS_CHANGED, variables)
        assert await second.receive() == _refusal(
            "2", "At most 3 subscriptions may be open for one user; complete one first."
        )

        # Those open go on; one completed makes room for another.
        ten = local(monday, 10, 0, NY)
        await book_via_api(client, clinic, doctor, ten, patient)
        assert [await _next_slots(first, "1"), await _next_slots(first, "2")] in (
            [_day(monday, {ten})] * 2,
        )
        assert await _next_slots(second) == _day(monday, {ten})
        await first.send({"type": "complete", "id": "1"})
        await second.subscribe("3", SLOTS_CHANGED, variables)
        assert await _next_slots(second, "3") == _day(monday, {ten})


async def test_a_document_over_the_cost_limit_is_refused(
    api_url: str, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    costly = """
    subscription Costly($doctorId: ID!, $date: Date!) {
      slotsChanged(doctorId: $doctorId, date: $date) {
        doctor { availableSlots(date: $date) { startsAt clinic { name } } }
      }
    }
    """
    async with signed_socket(api_url, patient.token) as live:
        await live.subscribe("1", costly, _variables(doctor, monday))
        assert await live.receive() == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": None,
                "errors": [{
                    "message": "The operation costs 249409; at most 50000 is allowed. Ask for "
                    "fewer items (`first`) or fewer fields.",
                    "extensions": {"code": "QUERY_TOO_COMPLEX"},
                }],
                "extensions": {"cost": {"requested": 249409, "limit": 50000}},
            },
        }  # fmt: skip
        assert await live.receive() == {"id": "1", "type": "complete"}


async def test_an_unknown_doctor_is_not_found(
    api_url: str, sessions: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:  # fmt: skip
    patient = await signed_in(sessions, settings, Role.PATIENT)
    variables = {"doctorId": "00000000-0000-4000-8000-000000000000", "date": "2030-01-07"}
    async with signed_socket(api_url, patient.token) as live:
        await live.subscribe("1", SLOTS_CHANGED, variables)
        assert await live.receive() == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": None,
                "errors": [{
                    "message": "No doctor has that id.",
                    "extensions": {"code": "NOT_FOUND"},
                }],
                "extensions": {"cost": {"requested": 1441, "limit": 50000}},
            },
        }  # fmt: skip
        assert await live.receive() == {"id": "1", "type": "complete"}


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[EmbeddedRedis]:
    """A Redis of the test's own, to pause without touching the session's."""
    redis = EmbeddedRedis(tmp_path / "redis", False)
    await asyncio.to_thread(redis.start)
    try:
        yield redis
    finally:
        await asyncio.to_thread(redis.stop)


async def test_while_redis_does_not_answer_subscriptions_end_and_new_ones_are_refused(
    own_redis: EmbeddedRedis, settings: Settings, sessions: async_sessionmaker[AsyncSession],
    world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    on_own_redis = dataclasses.replace(settings, redis_url=own_redis.url)
    async with serving(on_own_redis) as url, signed_socket(url, patient.token) as live:
        await live.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await _next_slots(live) == _day(monday)
        with paused(own_redis.pid):
            ended = [await live.receive(), await live.receive()]
            async with live_socket(url) as refused:
                await refused.init({"Authorization": f"Bearer {patient.token}"})
                refused_with = await refused.closed_with()
        # Once Redis answers again, so do subscriptions.
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await until_ready(http)
        async with signed_socket(url, patient.token) as again:
            await again.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
            assert await _next_slots(again) == _day(monday)

    assert ended == [
        {
            "id": "1",
            "type": "next",
            "payload": {
                "data": None,
                "errors": [{
                    "message": "Live slot updates were interrupted (Redis unreachable); "
                    "subscribe again.",
                    "extensions": {"code": "SERVICE_UNAVAILABLE"},
                }],
                "extensions": {"cost": {"requested": 1441, "limit": 50000}},
            },
        },
        {"id": "1", "type": "complete"},
    ]  # fmt: skip
    assert refused_with == (1013, "Try again later: the service cannot check tokens right now.")


async def test_each_transport_serves_its_own_operations(
    api_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)

    over_http = await client.post(
        "/graphql", json={"query": SLOTS_CHANGED, "variables": _variables(doctor, monday)}
    )
    async with signed_socket(api_url, patient.token) as live:
        await live.subscribe("1", "query Clinics { clinics { name } }", {})
        over_websocket = await live.receive()

    assert (over_http.status_code, over_http.json()) == (200, {
        "data": None,
        "errors": [{
            "message": "Subscriptions are served over a WebSocket to /graphql "
            "(graphql-transport-ws) only.",
            "extensions": {"code": "BAD_USER_INPUT"},
        }],
        "extensions": {"cost": {"requested": 0, "limit": 50000}},
    })  # fmt: skip
    assert over_websocket == {
        "id": "1",
        "type": "error",
        "payload": [{
            "message": "Over a WebSocket only subscriptions are served; send queries and "
            "mutations by POST /graphql.",
            "extensions": {"code": "BAD_USER_INPUT"},
        }],
    }  # fmt: skip


async def test_the_socket_closes_with_4401_when_its_token_expires(
    api_url: str, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    _, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    # Issued long enough ago that it has two seconds left.
    issued = datetime.now(UTC) - ACCESS_TOKEN_LIFETIME + timedelta(seconds=2)
    token, _ = token_service(settings).issue_access(
        user_id=patient.user_id, role=Role.PATIENT, family_id=uuid.uuid4(),
        patient_id=patient.profile_id, now=issued,
    )  # fmt: skip
    async with signed_socket(api_url, token) as live:
        await live.subscribe("1", SLOTS_CHANGED, _variables(doctor, monday))
        assert await _next_slots(live) == _day(monday)
        assert await live.closed_with() == (
            4401,
            "Unauthorized: the access token expired; connect again with a new one.",
        )


async def test_a_mutation_over_the_websocket_is_refused_and_changes_nothing(
    api_url: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    settings: Settings, world: tuple[Clinic, Doctor, date],
) -> None:  # fmt: skip
    clinic, doctor, monday = world
    patient = await signed_in(sessions, settings, Role.PATIENT)
    async with signed_socket(api_url, patient.token) as live:
        await live.subscribe("1", BOOK_AGAIN, _booking(clinic, doctor, local(monday, 9, 0, NY)))
        refused = await live.receive()

    assert refused == {
        "id": "1",
        "type": "error",
        "payload": [{
            "message": "Over a WebSocket only subscriptions are served; send queries and "
            "mutations by POST /graphql.",
            "extensions": {"code": "BAD_USER_INPUT"},
        }],
    }  # fmt: skip
    assert await _appointments(sessions) == 0
