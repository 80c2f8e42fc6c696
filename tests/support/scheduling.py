"""A small clinic world for scheduling tests: set up through the domain functions."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Clinic, Doctor, DoctorClinic, ScheduleTemplate, User
from domain.auth.sessions import sign_in
from domain.clock import clock
from services.settings import Settings
from tests.support.api import graphql
from tests.support.factories import add_clinic, add_doctor, add_patient, add_user
from tests.support.people import token_service

# A clinic, a doctor working there Mondays 09:00-12:00 (30-minute slots), next Monday.
MondayWorld = tuple[Clinic, Doctor, date]


async def make_monday_world(sessions: async_sessionmaker[AsyncSession]) -> MondayWorld:
    clinic, doctor = await clinic_with_doctor(sessions)
    await add_template(sessions, doctor, clinic, 1, time(9), time(12))
    return clinic, doctor, next_weekday(1)


@dataclass(frozen=True)
class Signed:
    user_id: uuid.UUID
    profile_id: uuid.UUID | None
    token: str


def next_weekday(weekday: int, after: date | None = None) -> date:
    """The first ISO ``weekday`` at least two days after ``after`` (default: today in
    UTC by the domain's clock). Two days, not one: 09:00 local on it is then more than
    24 hours ahead in any zone from UTC-12 to UTC+9, so its 24 h reminder is still to
    come whatever the hour now."""
    start = (after or clock.now().date()) + timedelta(days=2)
    return start + timedelta(days=(weekday - start.isoweekday()) % 7)


def local(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone))


async def add_template(
    sessions: async_sessionmaker[AsyncSession],
    doctor: Doctor,
    clinic: Clinic,
    day_of_week: int,
    start: time,
    end: time,
    slot_minutes: int = 30,
) -> None:
    async with sessions.begin() as session:
        session.add(
            ScheduleTemplate(
                doctor_id=doctor.id,
                clinic_id=clinic.id,
                day_of_week=day_of_week,
                start_time=start,
                end_time=end,
                slot_minutes=slot_minutes,
            )
        )


async def clinic_with_doctor(
    sessions: async_sessionmaker[AsyncSession], zone: str = "America/New_York"
) -> tuple[Clinic, Doctor]:
    async with sessions.begin() as session:
        clinic = await add_clinic(session, "Riverside", zone)
        doctor = await add_doctor(session, "Dr. Ada Grey", clinics=(clinic,))
    return clinic, doctor


async def link(sessions: async_sessionmaker[AsyncSession], doctor: Doctor, clinic: Clinic) -> None:
    async with sessions.begin() as session:
        session.add(DoctorClinic(doctor_id=doctor.id, clinic_id=clinic.id))


async def signed_in(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    role: Role,
    *,
    doctor: Doctor | None = None,
    name: str = "Pat Doe",
) -> Signed:
    """A user with a token, without argon2: fast enough to make a hundred."""
    tokens = token_service(settings)
    async with sessions.begin() as session:
        if role is Role.PATIENT:
            patient = await add_patient(session, name)
            user = await session.get_one(User, patient.user_id)
            profile_id: uuid.UUID | None = patient.id
        elif role is Role.DOCTOR:
            assert doctor is not None
            user = await session.get_one(User, doctor.user_id)
            profile_id = doctor.id
        else:
            user = await add_user(session, Role.ADMIN)
            profile_id = None
        signed = await sign_in(session, tokens, user)
    return Signed(user_id=user.id, profile_id=profile_id, token=signed.access_token)


BOOK = "mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"


async def book_via_api(
    client: httpx.AsyncClient, clinic: Clinic, doctor: Doctor, at: datetime, who: Signed
) -> str:
    """Books through the API and returns the appointment id; the booking must succeed."""
    body = await graphql(
        client,
        BOOK,
        {
            "input": {
                "doctorId": str(doctor.id),
                "clinicId": str(clinic.id),
                "startsAt": at.isoformat(),
            }
        },
        token=who.token,
    )
    assert "errors" not in body, body
    return str(body["data"]["bookAppointment"]["id"])
