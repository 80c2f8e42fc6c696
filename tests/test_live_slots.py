"""slotsChanged over graphql-transport-ws: the day at once, then after every committed
change, from whichever process made it; the token in connection_init; the caps."""

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Appointment, Clinic, Doctor
from devtools.embedded.process import free_port
from services.settings import Settings
from tests.support.api import graphql, serving
from tests.support.live import SLOTS_CHANGED, LiveClient, live_socket, signed_socket
from tests.support.processes import running, until_answers
from tests.support.scheduling import Signed, book_via_api, local, make_monday_world, signed_in
from tests.support.servers import Servers

NY = "America/New_York"


def _day(monday: date, booked: set[datetime] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
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
    assert message["type"] == "next" and message["id"] == id_, message
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
