"""A refused change leaves an audit row, like a refused read; the change itself leaves none
of its effects."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentStatus, AuditOutcome, Role
from db.models import Appointment, AuditEntry, Clinic, DoctorClinic
from services.settings import Settings
from tests.support.api import graphql
from tests.support.factories import add_clinic, appointment
from tests.support.people import person


async def _audit(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[object, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                AuditEntry.actor_user_id,
                AuditEntry.action,
                AuditEntry.patient_id,
                AuditEntry.resource_type,
                AuditEntry.resource_id,
                AuditEntry.outcome,
            ).order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows.all()]


async def test_a_refused_cancel_is_audited_as_denied_and_changes_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    doctor = await person(sessions, settings, Role.DOCTOR, "Dr Dee")
    ann = await person(sessions, settings, Role.PATIENT, "Ann A")
    stranger = await person(sessions, settings, Role.PATIENT, "Ben B")
    assert doctor.doctor is not None
    assert ann.patient is not None
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        session.add(DoctorClinic(doctor_id=doctor.doctor.id, clinic_id=clinic.id))
        await session.flush()
        booked = appointment(
            doctor=doctor.doctor, patient=ann.patient, clinic=clinic,
            starts_at=datetime.now(UTC) + timedelta(days=3), status=AppointmentStatus.SCHEDULED,
        )  # fmt: skip
        session.add(booked)
    body = await graphql(
        client,
        "mutation C($id: ID!) { cancelAppointment(id: $id) { id } }",
        {"id": str(booked.id)},
        token=stranger.access_token,
    )

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == "You may not change this appointment."
    assert await _audit(sessions) == [
        (stranger.user.id, "appointment.cancel", None, "Appointment", str(booked.id),
         AuditOutcome.DENIED),
    ]  # fmt: skip
    async with sessions() as session:
        still = await session.get_one(Appointment, booked.id)
    assert (still.status, still.cancelled_at) == (AppointmentStatus.SCHEDULED, None)


async def test_an_admin_field_refused_at_the_door_is_audited_and_creates_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    ann = await person(sessions, settings, Role.PATIENT, "Ann A")
    body = await graphql(
        client,
        'mutation { createClinic(input: {name: "Mine", timezone: "UTC"}) { id } }',
        token=ann.access_token,
    )
    anonymous = await graphql(
        client, 'mutation { createClinic(input: {name: "Mine", timezone: "UTC"}) { id } }'
    )

    assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        ("FORBIDDEN", "Only administrators may do this.")
    ]
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    assert await _audit(sessions) == [
        (ann.user.id, "createClinic", None, "Operation", None, AuditOutcome.DENIED),
        (None, "createClinic", None, "Operation", None, AuditOutcome.DENIED),
    ]
    async with sessions() as session:
        assert (await session.scalars(select(Clinic))).all() == []
