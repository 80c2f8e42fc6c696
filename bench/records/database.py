"""The bench database: created afresh, seeded with one patient's records, dropped at the end."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.engine import create_engine, session_factory
from db.enums import RecordStatus, RecordType, Role
from db.ids import uuid7
from db.models import Doctor, MedicalRecord, Patient, User

RECORDS = 50
DOCTORS = 3


@dataclass(frozen=True, slots=True)
class Fixture:
    patient_id: uuid.UUID
    user_id: uuid.UUID


def database_url(admin_url: str, database: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _check_name(database: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise ValueError(f"not a plain database name: {database!r}")
    return database


async def recreate_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_check_name(database)} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {_check_name(database)}")
    finally:
        await connection.close()


async def drop_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_check_name(database)} WITH (FORCE)")
    finally:
        await connection.close()


async def seed(url: str) -> Fixture:
    """One patient (with its user) and 50 AVAILABLE records from 3 doctors, newest last."""
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            patient_user = User(
                id=uuid7(), email="bench.patient@example.test", password_hash="-", role=Role.PATIENT
            )
            session.add(patient_user)
            await session.flush()
            patient = Patient(
                id=uuid7(),
                user_id=patient_user.id,
                name="Pat Bench",
                date_of_birth=date(1980, 1, 2),
            )
            session.add(patient)
            doctors: list[Doctor] = []
            for n in range(DOCTORS):
                user = User(
                    id=uuid7(),
                    email=f"bench.dr{n}@example.test",
                    password_hash="-",
                    role=Role.DOCTOR,
                )
                session.add(user)
                await session.flush()
                doctors.append(
                    Doctor(
                        id=uuid7(), user_id=user.id, name=f"Dr. Bench {n}", specialty="Cardiology"
                    )
                )
            session.add_all(doctors)
            await session.flush()
            types = list(RecordType)
            base = datetime(2026, 1, 1, tzinfo=UTC)
            for n in range(RECORDS):
                record_id = uuid7()
                session.add(
                    MedicalRecord(
                        id=record_id,
                        patient_id=patient.id,
                        doctor_id=doctors[n % DOCTORS].id,
                        uploaded_by_user_id=doctors[n % DOCTORS].user_id,
                        record_type=types[n % len(types)],
                        title=f"Report {n:03}",
                        file_name=f"report {n:03}.pdf",
                        content_type="application/pdf",
                        size_bytes=10_000 + n,
                        s3_key=f"patients/{patient.id}/{record_id}/report_{n:03}.pdf",
                        status=RecordStatus.AVAILABLE,
                        uploaded_at=base + timedelta(hours=n),
                    )
                )
        return Fixture(patient_id=patient.id, user_id=patient_user.id)
    finally:
        await engine.dispose()


async def audit_rows(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM audit_log")
        return count
    finally:
        await connection.close()
