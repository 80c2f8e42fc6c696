"""The bench's own database: created, migrated and seeded the first time, then reused; and
who the report's requests act as (a patient with 50 records, their doctor, an admin)."""

import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.records.database import RECORDS
from db.migrate import upgrade_async
from devtools.scale import seed_scale

_MARK = "bench-report/"  # the s3_key prefix of the records this module adds


@dataclass(frozen=True, slots=True)
class People:
    records_patient: uuid.UUID  # has RECORDS available records, some from `doctor`
    records_patient_user: uuid.UUID
    doctor: uuid.UUID  # has an appointment with records_patient
    doctor_user: uuid.UUID
    admin_user: uuid.UUID


async def prepare_database(admin_url: str, database: str, database_url: str) -> None:
    """Create the database unless it exists, migrate it, seed it unless it has doctors."""
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    await upgrade_async(database_url)
    connection = await asyncpg.connect(database_url)
    try:
        seeded = await connection.fetchval("SELECT count(*) FROM doctors")
    finally:
        await connection.close()
    if not seeded:
        print("seeding (medappt seed-scale, about a minute) ...", file=sys.stderr)
        await seed_scale(database_url, progress=False)


async def people(database_url: str) -> People:
    """The report's cast, adding the patient's 50 records the first time."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            pair = await connection.fetchrow(
                "SELECT a.patient_id, p.user_id AS patient_user, a.doctor_id,"
                " d.user_id AS doctor_user FROM appointments a"
                " JOIN patients p ON p.id = a.patient_id JOIN doctors d ON d.id = a.doctor_id"
                " ORDER BY a.id LIMIT 1"
            )
            admin = await connection.fetchval("SELECT id FROM users WHERE role = 'ADMIN' LIMIT 1")
            if pair is None or admin is None:
                raise RuntimeError("the bench database has no appointment or no admin")
            marked = await connection.fetchval(
                "SELECT count(*) FROM medical_records WHERE s3_key LIKE $1", f"{_MARK}%"
            )
            if not marked:
                await _add_records(connection, pair["patient_id"], pair["doctor_id"])
    finally:
        await connection.close()
    return People(
        records_patient=pair["patient_id"],
        records_patient_user=pair["patient_user"],
        doctor=pair["doctor_id"],
        doctor_user=pair["doctor_user"],
        admin_user=admin,
    )


async def _add_records(
    connection: asyncpg.Connection, patient_id: uuid.UUID, doctor_id: uuid.UUID
) -> None:
    """RECORDS newer than any other of the patient's, so a page of 50 is exactly these."""
    doctor_user = await connection.fetchval("SELECT user_id FROM doctors WHERE id = $1", doctor_id)
    start = datetime.now(UTC) - timedelta(days=1)
    rows = [
        (
            uuid.uuid4(),
            patient_id,
            doctor_id,
            doctor_user,
            ("PRESCRIPTION", "LAB_REPORT", "IMAGING", "VISIT_NOTE", "OTHER")[n % 5],
            f"Report {n:03}",
            f"report {n:03}.pdf",
            10_000 + n,
            f"{_MARK}{patient_id}/{n:03}.pdf",
            start + timedelta(minutes=n),
        )
        for n in range(RECORDS)
    ]
    await connection.executemany(
        "INSERT INTO medical_records (id, patient_id, doctor_id, uploaded_by_user_id,"
        " record_type, title, file_name, content_type, size_bytes, s3_key, status, uploaded_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'application/pdf', $8, $9, 'AVAILABLE', $10)",
        rows,
    )
