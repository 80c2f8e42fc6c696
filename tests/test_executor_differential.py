"""The fast executor (schema/fast_executor.py) against graphql-core's own, on the same
database, Redis and storage, for the same callers: every query written in the test suite
and generated ones give the same ``data``, ``errors`` (message, path, locations,
extensions, order), response extensions and audit rows.

Each document runs in process through both schemas with one set of services (so that
caches, links reused per caller included, are shared), one after the other; the audit
rows of the first run are read and removed before the second, so both see one state.
Mutations change that state, so they are not run twice here: what a mutation returns
is filled by the same code as a query's fields, and the suite runs on the fast executor.
"""

import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
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
from schema.fast_executor import FIELD_COUNTS
from services.container import Services, open_services
from services.rate_limits.budgets import RateLimits
from services.settings import Settings
from tests.support.documents import Operation, suite_operations, variable_values
from tests.support.factories import add_doctor, appointment
from tests.support.scheduling import local, make_monday_world, signed_in
from tests.test_fuzz import KNOWN_IDS, QUERIES, SCALARS, SCHEMA, as_variables

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
    ids: dict[str, str]
    scalars: dict[str, Any]


@pytest.fixture(scope="module")
async def world(settings: Settings, engine: AsyncEngine, redis: Redis) -> AsyncIterator[World]:
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
    KNOWN_IDS[:] = [*ids.values(), str(second.id), str(other.profile_id), str(visits[1].id)]
    async with open_services(unlimited) as services:
        yield World(
            services=services,
            fast=build_schema(executor="fast"),
            standard=build_schema(executor="standard"),
            engine=engine,
            tokens={"anonymous": None, "patient": patient.token, "other patient": other.token,
                    "doctor": doctor_signed.token, "admin": admin.token},
            ids=ids,
            scalars=scalars,
        )  # fmt: skip
    KNOWN_IDS.clear()


async def _run(
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
    context = await build_context(Request(scope), world.services, request_id)
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


async def _agree(
    world: World,
    role: str,
    document: str,
    variables: dict[str, Any],
    operation_name: str | None = None,
) -> dict[str, Any]:
    fast = await _run(world, world.fast, role, document, variables, operation_name)
    standard = await _run(world, world.standard, role, document, variables, operation_name)
    assert fast == standard, (role, document, variables)
    return fast


SUITE_QUERIES = [operation for operation in suite_operations() if operation.kind.value == "query"]


def test_the_suite_has_queries_to_compare() -> None:
    # Guards the collection itself: a change that found none would compare nothing.
    assert len(SUITE_QUERIES) >= 50


@pytest.mark.parametrize("operation", SUITE_QUERIES, ids=lambda operation: operation.where)
async def test_every_query_of_the_suite_gives_the_same_answer(
    world: World, operation: Operation
) -> None:
    variables = variable_values(operation, world.ids, world.scalars)
    for role in ROLES:
        await _agree(world, role, operation.document, variables, operation.name)


RECORDS_QUERY = (
    "query P($id: ID!) { patient(id: $id) { id name records(first: 50) { edges { node "
    "{ id title recordType uploadedAt doctor { name } documentUrl } } } } }"
)


async def test_the_records_query_reads_its_plain_fields_without_resolvers(world: World) -> None:
    """The bench's query (bench/records): per record, node, id, title, recordType,
    uploadedAt and the doctor's name are read, doctor and documentUrl called directly;
    the patient's id and name and the edges list are read; patient and records (they
    take arguments) go through graphql-core's execute_field. graphql-core's own executor
    counts nothing."""
    variables = {"id": world.ids["patient"]}
    before = dataclasses.replace(FIELD_COUNTS)
    body = await _run(world, world.fast, "doctor", RECORDS_QUERY, variables)
    assert body["errors"] == []
    assert len(body["data"]["patient"]["records"]["edges"]) == RECORDS
    with_doctor = RECORDS - RECORDS // 3  # every third record has no doctor
    assert FIELD_COUNTS.plain - before.plain == 3 + 5 * RECORDS + with_doctor
    assert FIELD_COUNTS.direct - before.direct == 2 * RECORDS
    assert FIELD_COUNTS.resolved - before.resolved == 2
    before = dataclasses.replace(FIELD_COUNTS)
    await _run(world, world.standard, "doctor", RECORDS_QUERY, variables)
    assert before == FIELD_COUNTS


@pytest.mark.parametrize("role", ROLES)
@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_generated_queries_give_the_same_answer(
    world: World, role: str, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(QUERIES))
    document = data.draw(queries(SCHEMA, fields=[field], custom_scalars=SCALARS))
    await _agree(world, role, document, {})
    lifted, variables = as_variables(document)
    await _agree(world, role, lifted, variables)
