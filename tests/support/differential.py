"""Two executors side by side on one world: the fast one (schema/fast_executor/) and
graphql-core's own, sharing services (caches, links reused per caller), for the
differential tests (tests/test_executor_differential*.py)."""

import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from strawberry import Schema

from db.base import Base
from db.engine import session_factory
from db.enums import AppointmentStatus, RecordStatus, RecordType, Role
from db.models import MedicalRecord, Patient, ScheduleException
from schema import build_schema
from schema.context import build_context
from services.container import Services, open_services
from services.rate_limits.budgets import RateLimits
from services.settings import Settings
from tests.support.factories import add_doctor, appointment
from tests.support.scheduling import local, make_monday_world, signed_in

NY = "America/New_York"
ROLES = ("anonymous", "patient", "other patient", "doctor", "admin")
RECORDS = 5
_runs = itertools.count()


@dataclasses.dataclass(frozen=True)
class World:
    services: Services
    fast: Schema
    standard: Schema
    engine: AsyncEngine
    tokens: dict[str, str | None]
    ids: dict[str, str]  # by kind (tests/support/documents.py), and a default
    more_ids: list[str]  # of other rows of the world
    scalars: dict[str, Any]


@asynccontextmanager
async def differential_world(
    settings: Settings, engine: AsyncEngine, redis: Redis
) -> AsyncIterator[World]:
    """A clinic, two doctors, a patient with appointments and records, another patient,
    an admin; the first doctor saw the patient and is away one afternoon."""
    async with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await redis.flushdb()
    sessions = session_factory(engine)
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    other = await signed_in(sessions, settings, Role.PATIENT, name="Other Person")
    async with sessions.begin() as session:
        second = await add_doctor(session, "Dr. Bo Lin", "Dermatology", clinics=(clinic,))
        row = await session.get_one(Patient, patient.profile_id)
        visits = [
            appointment(doctor=doctor, patient=row, clinic=clinic, starts_at=local(monday, 9, 0, NY)),
            appointment(doctor=doctor, patient=row, clinic=clinic, starts_at=local(monday, 10, 0, NY) - timedelta(days=14), status=AppointmentStatus.COMPLETED),
            appointment(doctor=second, patient=row, clinic=clinic, starts_at=local(monday, 11, 0, NY), status=AppointmentStatus.CANCELLED),
        ]  # fmt: skip
        session.add_all(visits)
        start = datetime.combine(monday, time(13), UTC)
        session.add(ScheduleException(doctor_id=doctor.id, starts_at=start, ends_at=start + timedelta(hours=2), reason="Away"))  # fmt: skip
        records = []
        for n in range(RECORDS):
            record_id = uuid.uuid4()
            records.append(MedicalRecord(
                id=record_id, patient_id=row.id, doctor_id=(doctor, second, None)[n % 3].id if n % 3 < 2 else None,  # type: ignore[union-attr]
                record_type=list(RecordType)[n % len(RecordType)], title=f"Report {n}", file_name=f"r{n}.pdf",
                content_type="application/pdf", size_bytes=100 + n, s3_key=f"patients/{row.id}/{record_id}/r{n}.pdf",
                status=RecordStatus.AVAILABLE, uploaded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n),
            ))  # fmt: skip
        session.add_all(records)
        await session.flush()
    doctor_signed = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    ids = {
        "patient": str(patient.profile_id),
        "doctor": str(doctor.id),
        "clinic": str(clinic.id),
        "appointment": str(visits[0].id),
        "record": str(records[0].id),
        "user": str(patient.user_id),
        "default": str(patient.profile_id),
    }
    monday_nine = local(monday, 9, 0, NY)
    scalars = {
        "Date": monday.isoformat(),
        "DateTime": monday_nine.isoformat(),
        "Time": "09:00",
        "String": "Pat",
        "Int": 10,
        "Boolean": True,
        "Float": 1.0,
        "JSON": {},
    }
    unlimited = dataclasses.replace(settings, rate_limits=RateLimits(enabled=False))
    more_ids = [str(second.id), str(other.profile_id), str(visits[1].id)]
    async with open_services(unlimited) as services:
        yield World(
            services=services,
            fast=build_schema(executor="fast"),
            standard=build_schema(executor="standard"),
            engine=engine,
            tokens={"anonymous": None, "patient": patient.token, "other patient": other.token,
                    "doctor": doctor_signed.token, "admin": admin.token},
            ids=ids,
            more_ids=more_ids,
            scalars=scalars,
        )  # fmt: skip


async def run_once(
    world: World,
    schema: Schema,
    role: str,
    document: str,
    variables: dict[str, Any],
    operation_name: str | None = None,
) -> dict[str, Any]:
    """The response and the audit rows of one request, the rows then removed."""
    token = world.tokens[role]
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers,
             "client": ("127.0.0.1", 40000), "query_string": b""}  # fmt: skip
    request_id = f"differential-{next(_runs)}"
    authorization = f"Bearer {token}" if token else None
    context = await build_context(Request(scope), world.services, request_id, authorization)
    result = await schema.execute(
        document, variable_values=variables, context_value=context, operation_name=operation_name
    )
    async with world.engine.begin() as connection:
        rows = await connection.execute(
            text(
                "SELECT actor_user_id, actor_role, action, patient_id, resource_type, "
                "resource_id, outcome, ip FROM audit_log WHERE request_id = :id ORDER BY id"
            ),
            {"id": request_id},
        )
        # Sorted: root fields resolve concurrently, and which loader's statement comes
        # back first decides the order of their rows, whichever executor runs them.
        audit = sorted((tuple(row) for row in rows), key=repr)
        # The trail refuses DELETE by trigger; replication role lets this one through.
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(
            text("DELETE FROM audit_log WHERE request_id = :id"), {"id": request_id}
        )
    return {
        "data": result.data,
        "errors": [error.formatted for error in result.errors or ()],
        "extensions": result.extensions,
        "audit": audit,
    }


async def agree(
    world: World,
    role: str,
    document: str,
    variables: dict[str, Any],
    operation_name: str | None = None,
) -> dict[str, Any]:
    fast = await run_once(world, world.fast, role, document, variables, operation_name)
    standard = await run_once(world, world.standard, role, document, variables, operation_name)
    assert fast == standard, (role, document, variables)
    return fast
