"""Invariants PostgreSQL keeps by itself, checked with plain inserts that bypass the API."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, AuditOutcome
from db.models import Appointment, AuditEntry, Clinic, Doctor, Patient, ScheduleTemplate
from tests.support.factories import add_clinic, add_doctor, add_patient, appointment

NINE = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@dataclass
class World:
    clinic: Clinic
    doctor: Doctor
    other_doctor: Doctor
    patient: Patient
    other_patient: Patient


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        return World(
            clinic=clinic,
            doctor=await add_doctor(session, clinics=(clinic,)),
            other_doctor=await add_doctor(session, name="Dr. Bo Lin", clinics=(clinic,)),
            patient=await add_patient(session),
            other_patient=await add_patient(session, name="Max Roe"),
        )


async def _insert(sessions: async_sessionmaker[AsyncSession], *rows: object) -> None:
    async with sessions.begin() as session:
        session.add_all(rows)


async def _scheduled_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(Appointment.status == AppointmentStatus.SCHEDULED)
            )
            or 0
        )


@pytest.mark.parametrize(
    ("shared", "first_minutes", "second_offset", "second_minutes"),
    [
        ("doctor", 60, 30, 15),  # a short one inside a long one
        ("doctor", 30, 15, 60),  # a long one starting in the middle of a short one
        ("patient", 60, 45, 30),
        ("patient", 20, 0, 45),  # same start, different lengths
    ],
)
async def test_overlapping_scheduled_appointments_are_refused_by_postgres(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    shared: str,
    first_minutes: int,
    second_offset: int,
    second_minutes: int,
) -> None:
    await _insert(
        sessions,
        appointment(
            doctor=world.doctor,
            patient=world.patient,
            clinic=world.clinic,
            starts_at=NINE,
            minutes=first_minutes,
        ),
    )
    second = appointment(
        doctor=world.doctor if shared == "doctor" else world.other_doctor,
        patient=world.patient if shared == "patient" else world.other_patient,
        clinic=world.clinic,
        starts_at=NINE + timedelta(minutes=second_offset),
        minutes=second_minutes,
    )

    with pytest.raises(IntegrityError) as refused:
        await _insert(sessions, second)

    assert refused.value.orig is not None
    assert isinstance(refused.value.orig.__cause__, asyncpg.ExclusionViolationError)
    assert f'"ex_appointments_{shared}_no_overlap"' in str(refused.value.orig)
    assert await _scheduled_count(sessions) == 1


async def test_back_to_back_and_cancelled_appointments_do_not_conflict(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    first = appointment(
        doctor=world.doctor, patient=world.patient, clinic=world.clinic, starts_at=NINE
    )
    # Ranges are [start, end): the next slot may begin exactly when this one ends.
    adjacent = appointment(
        doctor=world.doctor,
        patient=world.patient,
        clinic=world.clinic,
        starts_at=NINE + timedelta(minutes=30),
    )
    cancelled_overlap = appointment(
        doctor=world.doctor,
        patient=world.other_patient,
        clinic=world.clinic,
        starts_at=NINE,
        status=AppointmentStatus.CANCELLED,
    )
    await _insert(sessions, first, adjacent, cancelled_overlap)

    assert await _scheduled_count(sessions) == 2


async def test_reactivating_a_cancelled_overlap_is_refused(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    kept = appointment(
        doctor=world.doctor, patient=world.patient, clinic=world.clinic, starts_at=NINE
    )
    cancelled = appointment(
        doctor=world.doctor,
        patient=world.other_patient,
        clinic=world.clinic,
        starts_at=NINE + timedelta(minutes=10),
        status=AppointmentStatus.CANCELLED,
    )
    await _insert(sessions, kept, cancelled)

    with pytest.raises(IntegrityError, match="ex_appointments_doctor_no_overlap"):
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "UPDATE appointments SET status = 'SCHEDULED', cancelled_at = NULL"
                    " WHERE id = :id"
                ),
                {"id": cancelled.id},
            )
    assert await _scheduled_count(sessions) == 1


async def test_appointment_must_end_after_it_starts(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    backwards = appointment(
        doctor=world.doctor, patient=world.patient, clinic=world.clinic, starts_at=NINE
    )
    backwards.ends_at = NINE

    with pytest.raises(IntegrityError, match="ck_appointments_ends_after_start"):
        await _insert(sessions, backwards)
    assert await _scheduled_count(sessions) == 0


async def test_appointment_needs_a_doctor_who_works_at_that_clinic(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessions.begin() as session:
        elsewhere = await add_clinic(session, name="Elsewhere", timezone="Europe/Berlin")

    with pytest.raises(IntegrityError, match="fk_appointments_doctor_id_clinic_id_doctor_clinics"):
        await _insert(
            sessions,
            appointment(
                doctor=world.doctor, patient=world.patient, clinic=elsewhere, starts_at=NINE
            ),
        )
    assert await _scheduled_count(sessions) == 0


def _template(world: World, start: time, end: time, slot_minutes: int = 30) -> ScheduleTemplate:
    return ScheduleTemplate(
        doctor_id=world.doctor.id,
        clinic_id=world.clinic.id,
        day_of_week=1,
        start_time=start,
        end_time=end,
        slot_minutes=slot_minutes,
    )


async def _template_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(ScheduleTemplate)) or 0


async def test_overlapping_templates_on_one_weekday_are_refused(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await _insert(
        sessions, _template(world, time(9), time(12)), _template(world, time(13), time(17))
    )

    with pytest.raises(IntegrityError, match="ex_schedule_templates_no_overlap"):
        await _insert(sessions, _template(world, time(11, 30), time(14)))
    assert await _template_count(sessions) == 2


@pytest.mark.parametrize(
    ("start", "end", "slot_minutes", "constraint"),
    [
        (time(12), time(9), 30, "ck_schedule_templates_ends_after_start"),
        (time(9), time(12), 4, "ck_schedule_templates_slot_minutes_range"),
        (time(9), time(12), 241, "ck_schedule_templates_slot_minutes_range"),
    ],
)
async def test_template_checks(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    start: time,
    end: time,
    slot_minutes: int,
    constraint: str,
) -> None:
    with pytest.raises(IntegrityError, match=constraint):
        await _insert(sessions, _template(world, start, end, slot_minutes))
    assert await _template_count(sessions) == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET action = 'edited'", "DELETE FROM audit_log"],
)
async def test_audit_log_refuses_update_and_delete(
    sessions: async_sessionmaker[AsyncSession], statement: str
) -> None:
    await _insert(sessions, AuditEntry(action="patient.read", outcome=AuditOutcome.ALLOWED))

    with pytest.raises(DBAPIError, match="audit_log is append-only"):
        async with sessions.begin() as session:
            await session.execute(text(statement))

    async with sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions == ["patient.read"]
