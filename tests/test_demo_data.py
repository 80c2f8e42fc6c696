"""The demo data set: exact contents, idempotent loads, real documents, conflict-free bookings."""

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.enums import AppointmentStatus, Role
from db.migrate import upgrade_async
from db.models import Appointment, Clinic, MedicalRecord, Patient, User
from devtools.demo import DEMO_PASSWORDS, DemoSummary, demo_logins, load_demo_data
from devtools.demo.plan import build_plan
from services.passwords import verify_password
from services.settings import Settings
from services.storage import s3_client
from tests.support.servers import Servers, drop_database, recreate_database, with_database

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import ObjectIdentifierTypeDef

# The demo data needs a database of its own: the shared one is emptied before each test.
DEMO_DATABASE = "medappt_demo_test"
DEMO_BUCKET = "medappt-demo-test"


@pytest.fixture(scope="module")
async def demo_sessions(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await recreate_database(servers.admin_database_url, DEMO_DATABASE)
    database_url = with_database(servers.admin_database_url, DEMO_DATABASE)
    await upgrade_async(database_url)
    engine = create_engine(database_url, pool_size=2)
    yield session_factory(engine)
    await engine.dispose()
    await drop_database(servers.admin_database_url, DEMO_DATABASE)


@pytest.fixture(scope="module")
async def demo_s3(settings: Settings) -> AsyncIterator["S3Client"]:
    async with s3_client(settings) as client:
        yield client


# ---------------------------------------------------------------------------
# The demo data set
# ---------------------------------------------------------------------------

USERS, CLINICS, DOCTORS, DOCTOR_CLINICS, TEMPLATES, PATIENTS = 61, 3, 10, 13, 96, 50
APPOINTMENTS, RECORDS = 191, 151
PAST_STATUSES = {
    AppointmentStatus.COMPLETED: 92,
    AppointmentStatus.CANCELLED: 17,
    AppointmentStatus.NO_SHOW: 16,
}
FUTURE_SCHEDULED = 66

FULL_LOAD = DemoSummary(
    users=USERS,
    clinics=CLINICS,
    doctors=DOCTORS,
    doctor_clinics=DOCTOR_CLINICS,
    schedule_templates=TEMPLATES,
    patients=PATIENTS,
    appointments=APPOINTMENTS,
    medical_records=RECORDS,
    documents_uploaded=RECORDS,
)
NOTHING = DemoSummary(0, 0, 0, 0, 0, 0, 0, 0, 0)
TABLE_COUNTS = {
    "users": USERS,
    "clinics": CLINICS,
    "doctors": DOCTORS,
    "doctor_clinics": DOCTOR_CLINICS,
    "schedule_templates": TEMPLATES,
    "patients": PATIENTS,
    "appointments": APPOINTMENTS,
    "medical_records": RECORDS,
}


@pytest.fixture(scope="module")
async def first_load(
    demo_sessions: async_sessionmaker[AsyncSession], demo_s3: "S3Client"
) -> DemoSummary:
    return await load_demo_data(demo_sessions, demo_s3, DEMO_BUCKET)


async def _table_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            table: (await session.scalar(text(f"SELECT count(*) FROM {table}"))) or 0
            for table in TABLE_COUNTS
        }


async def _document_keys(s3: "S3Client") -> list[str]:
    keys: list[str] = []
    async for page in s3.get_paginator("list_objects_v2").paginate(Bucket=DEMO_BUCKET):
        keys += [item["Key"] for item in page.get("Contents", []) if "Key" in item]
    return keys


async def test_first_load_inserts_the_whole_data_set(
    first_load: DemoSummary, demo_sessions: async_sessionmaker[AsyncSession], demo_s3: "S3Client"
) -> None:
    assert first_load == FULL_LOAD
    assert await _table_counts(demo_sessions) == TABLE_COUNTS
    assert len(await _document_keys(demo_s3)) == RECORDS


@pytest.mark.usefixtures("first_load")
async def test_second_load_adds_nothing_and_hashes_no_password(
    demo_sessions: async_sessionmaker[AsyncSession],
    demo_s3: "S3Client",
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuse(password: str) -> str:
        raise AssertionError("no user is missing, so no password needs hashing")

    monkeypatch.setattr("devtools.demo.seed.hash_password", refuse)
    assert await load_demo_data(demo_sessions, demo_s3, DEMO_BUCKET) == NOTHING
    assert await _table_counts(demo_sessions) == TABLE_COUNTS


@pytest.mark.usefixtures("first_load")
async def test_lost_documents_are_uploaded_again_without_new_rows(
    demo_sessions: async_sessionmaker[AsyncSession], demo_s3: "S3Client"
) -> None:
    keys = await _document_keys(demo_s3)
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
        batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys[start : start + 1000]]
        await demo_s3.delete_objects(Bucket=DEMO_BUCKET, Delete={"Objects": batch})
    assert await _document_keys(demo_s3) == []

    summary = await load_demo_data(demo_sessions, demo_s3, DEMO_BUCKET)

    assert summary == DemoSummary(0, 0, 0, 0, 0, 0, 0, 0, documents_uploaded=RECORDS)
    assert sorted(await _document_keys(demo_s3)) == sorted(keys)
    assert await _table_counts(demo_sessions) == TABLE_COUNTS


@pytest.mark.parametrize(
    ("content_type", "head", "tail"),
    [
        ("application/pdf", b"%PDF-1.4\n", b"%%EOF\n"),
        # The PNG ends with the IEND chunk and its CRC.
        ("image/png", b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"),
    ],
)
@pytest.mark.usefixtures("first_load")
async def test_documents_are_real_files_of_the_recorded_size(
    demo_sessions: async_sessionmaker[AsyncSession],
    demo_s3: "S3Client",
    content_type: str,
    head: bytes,
    tail: bytes,
) -> None:
    async with demo_sessions() as session:
        records = (
            await session.scalars(
                select(MedicalRecord).where(MedicalRecord.content_type == content_type)
            )
        ).all()
    assert records
    for record in records[:5]:
        response = await demo_s3.get_object(Bucket=DEMO_BUCKET, Key=record.s3_key)
        async with response["Body"] as stream:
            body = await stream.read()
        assert response["ContentType"] == content_type
        assert len(body) == record.size_bytes
        assert body.startswith(head)
        assert body.endswith(tail)


@pytest.mark.usefixtures("first_load")
async def test_clinics_are_in_three_time_zones(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session:
        zones = set(await session.scalars(select(Clinic.timezone)))
    assert zones == {"America/New_York", "America/Chicago", "Europe/Berlin"}


@pytest.mark.usefixtures("first_load")
async def test_appointments_lie_in_the_past_and_the_future(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with demo_sessions() as session:
        rows = (await session.execute(select(Appointment.status, Appointment.starts_at))).all()
    future = Counter(status for status, starts_at in rows if starts_at > now)
    past = Counter(status for status, starts_at in rows if starts_at <= now)
    assert future == {AppointmentStatus.SCHEDULED: FUTURE_SCHEDULED}
    assert past == PAST_STATUSES


@pytest.mark.parametrize("owner", ["doctor_id", "patient_id"])
@pytest.mark.usefixtures("first_load")
async def test_no_two_scheduled_appointments_overlap(
    demo_sessions: async_sessionmaker[AsyncSession], owner: str
) -> None:
    async with demo_sessions() as session:
        overlapping = await session.scalar(
            text(
                f"""
                SELECT count(*) FROM appointments a JOIN appointments b
                  ON a.{owner} = b.{owner} AND a.id < b.id
                 AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
                WHERE a.status = 'SCHEDULED' AND b.status = 'SCHEDULED'
                """
            )
        )
    assert overlapping == 0


@pytest.mark.usefixtures("first_load")
async def test_every_appointment_is_a_template_slot(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session:
        off_template = await session.scalar(
            text(
                """
                SELECT count(*) FROM appointments a JOIN clinics c ON c.id = a.clinic_id
                WHERE NOT EXISTS (
                  SELECT 1 FROM schedule_templates t
                  WHERE t.doctor_id = a.doctor_id AND t.clinic_id = a.clinic_id
                    AND t.day_of_week = extract(isodow FROM a.starts_at AT TIME ZONE c.timezone)
                    AND (a.starts_at AT TIME ZONE c.timezone)::time >= t.start_time
                    AND (a.ends_at AT TIME ZONE c.timezone)::time <= t.end_time
                    AND a.ends_at - a.starts_at = make_interval(mins => t.slot_minutes)
                    AND extract(epoch FROM (a.starts_at AT TIME ZONE c.timezone)::time
                                           - t.start_time)::int % (t.slot_minutes * 60) = 0
                )
                """
            )
        )
    assert off_template == 0


@pytest.mark.usefixtures("first_load")
async def test_every_patient_has_two_to_four_records(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session:
        per_patient = (
            await session.execute(
                select(MedicalRecord.patient_id, func.count()).group_by(MedicalRecord.patient_id)
            )
        ).all()
    assert Counter(count for _, count in per_patient) == {2: 16, 3: 17, 4: 17}


@pytest.mark.usefixtures("first_load")
async def test_demo_logins_match_the_stored_password_hashes(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    logins = demo_logins()
    assert [role for role, _, _ in logins] == ["ADMIN", "DOCTOR", "PATIENT"]
    async with demo_sessions() as session:
        for role, email, password in logins:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            assert user.role == Role(role)
            assert password == DEMO_PASSWORDS[user.role]
            assert await verify_password(user.password_hash, password)
        # One hash per role: argon2 runs three times, not sixty-one.
        assert await session.scalar(select(func.count(func.distinct(User.password_hash)))) == 3


# Days next to the DST changes in the US (March 9, November 2) and the EU (March 30,
# October 26 2025), a year end and a leap day.
@pytest.mark.parametrize(
    "today",
    [
        date(2025, 3, 8),
        date(2025, 3, 29),
        date(2025, 10, 25),
        date(2025, 11, 1),
        date(2025, 12, 31),
        date(2028, 2, 29),
    ],
)
def test_the_plan_never_double_books_on_any_day(today: date) -> None:
    plan = build_plan(today)
    assert len(plan.appointments) == APPOINTMENTS
    assert len(plan.records) == RECORDS
    # Whatever the hour in UTC on ``today``, past stays past and future stays future.
    start_of_today = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    for appointment in plan.appointments:
        if appointment.status is AppointmentStatus.SCHEDULED:
            assert appointment.starts_at >= start_of_today + timedelta(days=1)
        else:
            assert appointment.ends_at <= start_of_today
    for owner in ("doctor", "patient"):
        booked: dict[object, list[tuple[datetime, datetime]]] = {}
        for a in plan.appointments:
            intervals = booked.setdefault(getattr(a, owner).id, [])
            assert all(a.ends_at <= s or e <= a.starts_at for s, e in intervals)
            intervals.append((a.starts_at, a.ends_at))


@pytest.mark.usefixtures("first_load")
async def test_demo_addresses_are_verified(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session:
        unverified_emails = await session.scalar(
            select(func.count()).select_from(User).where(User.email_verified_at.is_(None))
        )
        unverified_phones = await session.scalar(
            select(func.count())
            .select_from(Patient)
            .where(Patient.phone.is_not(None), Patient.phone_verified_at.is_(None))
        )
        phones = await session.scalar(
            select(func.count()).select_from(Patient).where(Patient.phone.is_not(None))
        )
    assert (unverified_emails, unverified_phones, phones) == (0, 0, PATIENTS)
