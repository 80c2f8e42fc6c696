"""Load the demo data set into the database and its documents into S3, adding what is missing."""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import Base
from db.enums import RecordStatus, Role
from db.models import (
    Appointment,
    Clinic,
    Doctor,
    DoctorClinic,
    MedicalRecord,
    Patient,
    ScheduleTemplate,
    User,
)
from devtools.demo.data import (
    ADMIN_EMAIL,
    ADMIN_USER_ID,
    CLINICS,
    DEMO_PASSWORDS,
    DOCTORS,
    PATIENTS,
    demo_id,
)
from devtools.demo.plan import DemoPlan, PlannedRecord, build_plan
from services.passwords import hash_password
from services.storage import ensure_bucket

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_DOCUMENT_PREFIX = "patients/"
# Enough parallel uploads to hide round trips without flooding the S3 server.
_UPLOAD_CONCURRENCY = 16

Row = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What one load added: rows inserted per table and documents put into S3."""

    users: int
    clinics: int
    doctors: int
    doctor_clinics: int
    schedule_templates: int
    patients: int
    appointments: int
    medical_records: int
    documents_uploaded: int


async def load_demo_data(
    sessions: async_sessionmaker[AsyncSession],
    s3: "S3Client",
    bucket: str,
    *,
    today: date | None = None,
) -> DemoSummary:
    """Insert the demo rows that are missing, then upload the documents that are missing.

    Rows have fixed ids and go in with ON CONFLICT DO NOTHING, so a repeated load adds
    nothing. Appointments are placed around ``today`` (default: the current UTC date);
    a later load on another day finds them by id and leaves them where they are.
    """
    plan = build_plan(today or datetime.now(UTC).date())
    async with sessions.begin() as session:
        users = await _insert(session, User, await _missing_user_rows(session))
        clinics = await _insert(session, Clinic, _clinic_rows())
        doctors = await _insert(session, Doctor, _doctor_rows())
        doctor_clinics = await _insert(session, DoctorClinic, _doctor_clinic_rows())
        templates = await _insert(session, ScheduleTemplate, _template_rows())
        patients = await _insert(session, Patient, _patient_rows())
        appointments = await _insert(session, Appointment, _appointment_rows(plan))
        records = await _insert(session, MedicalRecord, _record_rows(plan))
        await _verify_demo_addresses(session)
    # After the commit: the S3 server of `medappt dev` forgets its objects on restart
    # while the database keeps its rows, so the documents are checked on every load.
    documents = await _upload_missing_documents(s3, bucket, plan.records)
    return DemoSummary(
        users=users,
        clinics=clinics,
        doctors=doctors,
        doctor_clinics=doctor_clinics,
        schedule_templates=templates,
        patients=patients,
        appointments=appointments,
        medical_records=records,
        documents_uploaded=documents,
    )


async def _insert(session: AsyncSession, entity: type[Base], rows: Sequence[Row]) -> int:
    """One multi-row INSERT; returns how many rows were new."""
    if not rows:
        return 0
    statement = (
        insert(entity)
        .values(list(rows))
        # No conflict target: rows clashing on any unique or exclusion constraint are skipped.
        .on_conflict_do_nothing()
        .returning(*inspect(entity).primary_key)
    )
    return len((await session.execute(statement)).all())


async def _missing_user_rows(session: AsyncSession) -> list[Row]:
    users = [(ADMIN_USER_ID, ADMIN_EMAIL, Role.ADMIN)]
    users += [(doctor.user_id, doctor.email, Role.DOCTOR) for doctor in DOCTORS]
    users += [(patient.user_id, patient.email, Role.PATIENT) for patient in PATIENTS]
    existing = set(
        await session.scalars(select(User.id).where(User.id.in_([user[0] for user in users])))
    )
    missing = [user for user in users if user[0] not in existing]
    # argon2 is slow on purpose: one hash per role, and none for a role already loaded.
    hashes = {
        role: await hash_password(DEMO_PASSWORDS[role]) for role in {user[2] for user in missing}
    }
    return [
        {"id": user_id, "email": email, "password_hash": hashes[role], "role": role}
        for user_id, email, role in missing
    ]


async def _verify_demo_addresses(session: AsyncSession) -> None:
    """Demo people's addresses count as verified, so the demo's messages go out (rows
    loaded before addresses needed verifying included)."""
    now = datetime.now(UTC)
    user_ids = [ADMIN_USER_ID, *(d.user_id for d in DOCTORS), *(p.user_id for p in PATIENTS)]
    await session.execute(
        update(User)
        .where(User.id.in_(user_ids), User.email_verified_at.is_(None))
        .values(email_verified_at=now)
    )
    await session.execute(
        update(Patient)
        .where(Patient.id.in_([p.id for p in PATIENTS]), Patient.phone_verified_at.is_(None))
        .values(phone_verified_at=now)
    )


def _clinic_rows() -> list[Row]:
    return [
        {"id": c.id, "name": c.name, "address": c.address, "timezone": c.timezone} for c in CLINICS
    ]


def _doctor_rows() -> list[Row]:
    return [
        {"id": d.id, "user_id": d.user_id, "name": d.name, "specialty": d.specialty}
        for d in DOCTORS
    ]


def _doctor_clinic_rows() -> list[Row]:
    return [{"doctor_id": d.id, "clinic_id": c.id} for d in DOCTORS for c in d.clinics]


def _template_rows() -> list[Row]:
    return [
        {
            "id": demo_id("template", d.number, b.clinic.number, b.day_of_week, b.start),
            "doctor_id": d.id,
            "clinic_id": b.clinic.id,
            "day_of_week": b.day_of_week,
            "start_time": b.start,
            "end_time": b.end,
            "slot_minutes": d.slot_minutes,
        }
        for d in DOCTORS
        for b in d.blocks
    ]


def _patient_rows() -> list[Row]:
    return [
        {
            "id": p.id,
            "user_id": p.user_id,
            "name": p.name,
            "date_of_birth": p.date_of_birth,
            "phone": p.phone,
        }
        for p in PATIENTS
    ]


def _appointment_rows(plan: DemoPlan) -> list[Row]:
    return [
        {
            "id": a.id,
            "patient_id": a.patient.id,
            "doctor_id": a.doctor.id,
            "clinic_id": a.clinic.id,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "status": a.status,
            "reason": a.reason,
            "cancellation_reason": a.cancellation_reason,
            "cancelled_at": a.cancelled_at,
            "booked_by_user_id": a.patient.user_id,
        }
        for a in plan.appointments
    ]


def _record_rows(plan: DemoPlan) -> list[Row]:
    return [
        {
            "id": r.id,
            "patient_id": r.patient.id,
            "doctor_id": r.doctor.id,
            "uploaded_by_user_id": r.doctor.user_id,
            "record_type": r.record_type,
            "title": r.title,
            "file_name": r.file_name,
            "content_type": r.content_type,
            "size_bytes": len(r.body),
            "s3_key": r.s3_key,
            "status": RecordStatus.AVAILABLE,
            "uploaded_at": r.uploaded_at,
        }
        for r in plan.records
    ]


async def _upload_missing_documents(
    s3: "S3Client", bucket: str, records: Sequence[PlannedRecord]
) -> int:
    await ensure_bucket(s3, bucket)
    # One listing instead of a HEAD per document.
    present: set[str] = set()
    async for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=_DOCUMENT_PREFIX
    ):
        present.update(item["Key"] for item in page.get("Contents", []) if "Key" in item)
    missing = [record for record in records if record.s3_key not in present]
    gate = asyncio.Semaphore(_UPLOAD_CONCURRENCY)

    async def upload(record: PlannedRecord) -> None:
        async with gate:
            await s3.put_object(
                Bucket=bucket, Key=record.s3_key, Body=record.body, ContentType=record.content_type
            )

    async with asyncio.TaskGroup() as uploads:
        for record in missing:
            uploads.create_task(upload(record))
    return len(missing)
