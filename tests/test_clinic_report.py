"""clinicReport reads the analytics database: here a streaming replica (pg_basebackup) of a
second PostgreSQL, which alone holds the rows counted by hand below."""

import asyncio
import dataclasses
import time as monotonic
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.enums import AppointmentStatus, Role
from db.migrate import upgrade_async
from db.models import Clinic, Doctor, ScheduleException, ScheduleTemplate
from devtools.embedded.postgres import EmbeddedPostgres
from services.container import open_services
from services.settings import Settings, load_settings
from tests.support.api import error_codes, graphql, serving
from tests.support.factories import add_clinic, add_doctor, add_patient, appointment
from tests.support.scheduling import clinic_with_doctor, signed_in

REPORT = """query R($from: Date!, $to: Date!, $clinicId: ID) {
  clinicReport(from: $from, to: $to, clinicId: $clinicId) {
    doctor { name active } scheduled completed cancelled noShow
    bookedMinutes openMinutes utilization } }"""
MONDAY, TUESDAY, WEDNESDAY = date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)
SUNDAY, NEXT_MONDAY = date(2027, 1, 10), date(2027, 1, 11)
NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
REPLAY_DEADLINE_S = 30.0


@dataclass(frozen=True)
class Analytics:
    primary: AsyncEngine
    replica_url: str


@pytest.fixture(scope="module")
def primary_and_replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = Path(tmp_path_factory.mktemp("analytics"))
    primary = EmbeddedPostgres(root / "primary", durable=False)
    primary.start()
    try:
        replica = EmbeddedPostgres(root / "replica", durable=False, primary_port=primary.port)
        replica.start()
        try:
            yield primary.url, replica.url
        finally:
            replica.stop()
    finally:
        primary.stop()


@pytest.fixture(scope="module")
async def analytics(primary_and_replica: tuple[str, str]) -> AsyncIterator[Analytics]:
    primary_url, replica_url = primary_and_replica
    await upgrade_async(primary_url)
    engine = create_engine(primary_url, pool_size=2)
    yield Analytics(engine, replica_url)
    await engine.dispose()


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


async def _week_of_work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Clinic]:
    """What the numbers below count. Dr. Ames in New York, Dr. Berg in Berlin and New
    York, Dr. Cole (inactive) in New York; one week from Monday 2027-01-04."""
    async with sessions.begin() as session:
        await session.execute(text("TRUNCATE clinics, users CASCADE"))
        ny = await add_clinic(session, "Riverside", "America/New_York")
        berlin = await add_clinic(session, "Spree", "Europe/Berlin")
        ames = await add_doctor(session, "Dr. Ames", clinics=(ny,))
        berg = await add_doctor(session, "Dr. Berg", clinics=(ny, berlin))
        cole = await add_doctor(session, "Dr. Cole", clinics=(ny,))
        await session.execute(update(Doctor).where(Doctor.id == cole.id).values(active=False))
        patient = await add_patient(session)
        session.add_all(
            [
                # Ames: Monday 180 minutes, Wednesday 120, less an hour away: 240 open.
                ScheduleTemplate(doctor_id=ames.id, clinic_id=ny.id, day_of_week=1,
                                 start_time=time(9), end_time=time(12)),
                ScheduleTemplate(doctor_id=ames.id, clinic_id=ny.id, day_of_week=3,
                                 start_time=time(14), end_time=time(16)),
                ScheduleException(doctor_id=ames.id, starts_at=_at(WEDNESDAY, 14, 0, NY),
                                  ends_at=_at(WEDNESDAY, 15, 0, NY)),
                # Next week: outside.
                ScheduleException(doctor_id=ames.id, starts_at=_at(NEXT_MONDAY, 9, 0, NY),
                                  ends_at=_at(NEXT_MONDAY, 12, 0, NY)),
                # Berg: Tuesday 120 in Berlin, Thursday 60 in New York.
                ScheduleTemplate(doctor_id=berg.id, clinic_id=berlin.id, day_of_week=2,
                                 start_time=time(8), end_time=time(10)),
                ScheduleTemplate(doctor_id=berg.id, clinic_id=ny.id, day_of_week=4,
                                 start_time=time(9), end_time=time(10)),
            ]
        )  # fmt: skip
        for doctor, clinic, starts_at, status in (
            (ames, ny, _at(MONDAY, 9, 0, NY), AppointmentStatus.SCHEDULED),
            (ames, ny, _at(MONDAY, 9, 30, NY), AppointmentStatus.COMPLETED),
            (ames, ny, _at(MONDAY, 10, 0, NY), AppointmentStatus.NO_SHOW),
            (ames, ny, _at(MONDAY, 10, 30, NY), AppointmentStatus.CANCELLED),
            (ames, ny, _at(WEDNESDAY, 15, 0, NY), AppointmentStatus.SCHEDULED),
            # Sunday evening in New York is Monday in UTC: still this week.
            (ames, ny, _at(SUNDAY, 21, 0, NY), AppointmentStatus.SCHEDULED),
            (ames, ny, _at(NEXT_MONDAY, 9, 0, NY), AppointmentStatus.SCHEDULED),
            # Monday 00:30 in Berlin is Sunday in UTC: this week too.
            (berg, berlin, _at(MONDAY, 0, 30, BERLIN), AppointmentStatus.SCHEDULED),
            (berg, berlin, _at(TUESDAY, 8, 0, BERLIN), AppointmentStatus.COMPLETED),
            # Sunday 23:00 in Berlin, the week before.
            (berg, berlin, _at(MONDAY - timedelta(days=1), 23, 0, BERLIN),
             AppointmentStatus.COMPLETED),
            (cole, ny, _at(TUESDAY, 10, 0, NY), AppointmentStatus.COMPLETED),
        ):  # fmt: skip
            session.add(
                appointment(
                    doctor=doctor,
                    patient=patient,
                    clinic=clinic,
                    starts_at=starts_at,
                    status=status,
                )
            )
    return {"ny": ny, "berlin": berlin}


async def _replayed(analytics: Analytics) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    async with analytics.primary.connect() as connection:
        lsn = await connection.scalar(text("SELECT CAST(pg_current_wal_lsn() AS text)"))
    replica = create_engine(analytics.replica_url, pool_size=1)
    try:
        deadline = monotonic.monotonic() + REPLAY_DEADLINE_S
        async with replica.connect() as connection:
            assert await connection.scalar(text("SELECT pg_is_in_recovery()")) is True
            while not await connection.scalar(
                text("SELECT pg_last_wal_replay_lsn() >= CAST(CAST(:lsn AS text) AS pg_lsn)"),
                {"lsn": lsn},
            ):
                assert monotonic.monotonic() < deadline, "the replica did not catch up"
                await asyncio.sleep(0.05)
    finally:
        await replica.dispose()


def _row(
    name: str, active: bool, counts: tuple[int, int, int, int], booked: int, open_: int
) -> dict[str, Any]:
    scheduled, completed, cancelled, no_show = counts
    return {
        "doctor": {"name": name, "active": active},
        "scheduled": scheduled, "completed": completed, "cancelled": cancelled,
        "noShow": no_show, "bookedMinutes": booked, "openMinutes": open_,
        "utilization": min(1.0, booked / open_) if open_ else 0.0,
    }  # fmt: skip


async def test_the_report_counts_what_the_replica_holds(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, analytics: Analytics
) -> None:
    clinics = await _week_of_work(session_factory(analytics.primary))
    await _replayed(analytics)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    _, own_doctor = await clinic_with_doctor(sessions)
    doctor = await signed_in(sessions, settings, Role.DOCTOR, doctor=own_doctor)
    week = {"from": MONDAY.isoformat(), "to": SUNDAY.isoformat()}

    on_replica = dataclasses.replace(settings, analytics_database_url=analytics.replica_url)
    async with serving(on_replica) as url, httpx.AsyncClient(base_url=url) as client:
        everywhere = await graphql(client, REPORT, week, token=admin.token)
        in_berlin = await graphql(
            client, REPORT, {**week, "clinicId": str(clinics["berlin"].id)}, token=admin.token
        )
        by_doctor = await graphql(client, REPORT, week, token=doctor.token)
        unknown = await graphql(
            client,
            REPORT,
            {**week, "clinicId": "01a223ec-0000-7000-8000-000000000000"},
            token=admin.token,
        )
        backwards = await graphql(
            client, REPORT, {"from": SUNDAY.isoformat(), "to": MONDAY.isoformat()},
            token=admin.token,
        )  # fmt: skip

    assert everywhere["data"]["clinicReport"] == [
        _row("Dr. Ames", True, (3, 1, 1, 1), 150, 240),
        _row("Dr. Berg", True, (1, 1, 0, 0), 60, 180),
        _row("Dr. Cole", False, (0, 1, 0, 0), 30, 0),
    ]
    assert in_berlin["data"]["clinicReport"] == [_row("Dr. Berg", True, (1, 1, 0, 0), 60, 120)]
    assert error_codes(by_doctor) == ["FORBIDDEN"]
    assert [(e["message"], e["extensions"]["code"]) for e in unknown["errors"]] == [
        ("No clinic has that id.", "NOT_FOUND")
    ]
    assert error_codes(backwards) == ["BAD_USER_INPUT"]


async def test_reports_have_their_own_statement_timeout(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    default = settings
    short = dataclasses.replace(
        settings,
        analytics_statement_timeout_ms=load_settings(
            {"MEDAPPT_ANALYTICS_STATEMENT_TIMEOUT_MS": "200"}
        ).analytics_statement_timeout_ms,
    )
    async with open_services(default) as services, services.analytics_sessions() as session:
        assert await session.scalar(text("SHOW statement_timeout")) == "1min"
    async with open_services(short) as services:
        async with services.analytics_sessions() as session:
            assert await session.scalar(text("SHOW statement_timeout")) == "200ms"
            with pytest.raises(DBAPIError, match="statement timeout"):
                await session.execute(text("SELECT pg_sleep(2)"))
        async with services.sessions() as session:
            # The API's own statements are not held to the reports' limit.
            assert await session.scalar(text("SHOW statement_timeout")) != "200ms"


def test_the_timeout_is_configured_in_milliseconds() -> None:
    assert load_settings({}).analytics_statement_timeout_ms == 60_000
    assert (
        load_settings(
            {"MEDAPPT_ANALYTICS_STATEMENT_TIMEOUT_MS": "1500"}
        ).analytics_statement_timeout_ms
        == 1500
    )
