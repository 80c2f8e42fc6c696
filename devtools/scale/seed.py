"""Fill a migrated database with a production-sized data set through binary COPY."""

import asyncio
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

import asyncpg
from sqlalchemy.engine import make_url
from tqdm import tqdm

from db.enums import Role
from devtools.scale.bookings import APPOINTMENT_COLUMNS, RECORD_COLUMNS, Planner, Row
from devtools.scale.world import (
    ADMIN_EMAIL,
    SCALE_PASSWORD,
    WEEKDAYS,
    World,
    build_world,
    scale_uuid,
)
from services.passwords import hash_password

# Rows per COPY statement: large enough to amortise round trips, small enough that the
# next chunk is generated while the server indexes this one.
CHUNK_ROWS = 50_000
# A database with this many appointments is not a fresh one: seeding it is refused.
APPOINTMENT_LIMIT = 1_000
# Held for the transaction, so two runs at once cannot both pass the check below.
_ADVISORY_LOCK = 0x6D65_6461_7070_7363  # "medappsc"

ALREADY_SEEDED = (
    f"refusing to seed: the database already holds the scale data set ({ADMIN_EMAIL} exists); "
    "seed_scale runs once, into a freshly migrated database"
)
TOO_MANY_APPOINTMENTS = (
    f"refusing to seed: the database already holds {APPOINTMENT_LIMIT} or more appointments; "
    "seed_scale runs once, into a freshly migrated database"
)
NOT_MIGRATED = "refusing to seed: the database has no appointments table; run `medappt migrate`"

_TABLES = (
    "users",
    "clinics",
    "doctors",
    "doctor_clinics",
    "schedule_templates",
    "patients",
    "appointments",
    "medical_records",
)
_USER_COLUMNS = ("id", "email", "password_hash", "role", "is_active", "created_at")
_CLINIC_COLUMNS = ("id", "name", "address", "timezone", "created_at")
_DOCTOR_COLUMNS = ("id", "user_id", "name", "specialty", "created_at")
_DOCTOR_CLINIC_COLUMNS = ("doctor_id", "clinic_id")
_TEMPLATE_COLUMNS = (
    "id",
    "doctor_id",
    "clinic_id",
    "day_of_week",
    "start_time",
    "end_time",
    "slot_minutes",
    "created_at",
)
_PATIENT_COLUMNS = (
    "id",
    "user_id",
    "name",
    "date_of_birth",
    "phone",
    "sms_opt_in",
    "email_opt_in",
    "created_at",
)


class ScaleSeedRefused(RuntimeError):
    """The database is not a fresh, migrated one; nothing was written."""


@dataclass(frozen=True, slots=True)
class ScaleSummary:
    """Rows written per table, and the wall time of the whole run (VACUUM ANALYZE included)."""

    users: int
    clinics: int
    doctors: int
    doctor_clinics: int
    schedule_templates: int
    patients: int
    appointments: int
    medical_records: int
    elapsed_seconds: float


async def seed_scale(
    database_url: str,
    *,
    doctors: int = 500,
    patients: int = 100_000,
    appointments: int = 500_000,
    clinics: int = 20,
    seed: int = 1,
    progress: bool = True,
    now: datetime | None = None,
) -> ScaleSummary:
    """Write the scale data set into a freshly migrated database in one transaction.

    ``database_url`` may be ``postgresql://`` or ``postgresql+asyncpg://``. The same
    ``seed`` and ``now`` (default: the current time) give the same rows. Users are
    ``admin@``, ``doctorNNNN@`` and ``patientNNNNNN@scale.medappt.dev``, all with the
    password ``SCALE_PASSWORD``. Raises ``ScaleSeedRefused`` without writing anything if
    the database is not migrated, already holds this data set, or holds 1000 or more
    appointments; a failure part way rolls everything back. Ends with VACUUM (ANALYZE) of
    the tables written, so plans and index-only scans are as on a settled database.
    """
    started = time.perf_counter()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    # Argument errors surface before any connection is made.
    world = await asyncio.to_thread(
        build_world, doctors=doctors, patients=patients, clinics=clinics, seed=seed, now=moment
    )
    planner = Planner(world, appointments=appointments, seed=seed, now=moment)
    # argon2 is slow on purpose: one hash, shared by every seeded user.
    password_hash = await hash_password(SCALE_PASSWORD)

    connection = await asyncpg.connect(_plain_dsn(database_url))
    try:
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _ADVISORY_LOCK)
            await _refuse_unless_fresh(connection)
            # Generators: each table's rows are made only as its COPY runs.
            tables: list[tuple[str, Sequence[str], Iterable[Row], int]] = [
                (
                    "users",
                    _USER_COLUMNS,
                    _user_rows(world, password_hash),
                    1 + len(world.doctors) + len(world.patients),
                ),
                ("clinics", _CLINIC_COLUMNS, _clinic_rows(world), len(world.clinics)),
                ("doctors", _DOCTOR_COLUMNS, _doctor_rows(world), len(world.doctors)),
                (
                    "doctor_clinics",
                    _DOCTOR_CLINIC_COLUMNS,
                    _doctor_clinic_rows(world),
                    sum(len(d.clinics) for d in world.doctors),
                ),
                (
                    "schedule_templates",
                    _TEMPLATE_COLUMNS,
                    _template_rows(world, seed),
                    sum(len(WEEKDAYS) * len(d.day_shape) for d in world.doctors),
                ),
                ("patients", _PATIENT_COLUMNS, _patient_rows(world), len(world.patients)),
                ("appointments", APPOINTMENT_COLUMNS, planner.appointment_rows(), appointments),
            ]
            copied = {
                table: await _copy(connection, table, columns, rows, total, progress=progress)
                for table, columns, rows, total in tables
            }
            # Known once the appointments are made.
            copied["medical_records"] = await _copy(
                connection,
                "medical_records",
                RECORD_COLUMNS,
                planner.record_rows,
                len(planner.record_rows),
                progress=progress,
            )
        with tqdm(
            total=len(_TABLES), desc="vacuum analyze", unit=" tables", disable=not progress
        ) as bar:
            for table in _TABLES:
                await connection.execute(f"VACUUM (ANALYZE) {table}")
                bar.update()
    finally:
        await connection.close()
    return ScaleSummary(**copied, elapsed_seconds=round(time.perf_counter() - started, 3))


def _plain_dsn(database_url: str) -> str:
    """asyncpg takes ``postgresql://``, without SQLAlchemy's driver suffix."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("not a PostgreSQL URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _refuse_unless_fresh(connection: asyncpg.Connection) -> None:
    if await connection.fetchval("SELECT to_regclass('appointments')") is None:
        raise ScaleSeedRefused(NOT_MIGRATED)
    if await connection.fetchval("SELECT 1 FROM users WHERE lower(email) = $1", ADMIN_EMAIL):
        raise ScaleSeedRefused(ALREADY_SEEDED)
    appointments = await connection.fetchval(
        "SELECT count(*) FROM (SELECT FROM appointments LIMIT $1) AS first", APPOINTMENT_LIMIT
    )
    if appointments >= APPOINTMENT_LIMIT:
        raise ScaleSeedRefused(TOO_MANY_APPOINTMENTS)


async def _copy(
    connection: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Row],
    total: int,
    *,
    progress: bool,
) -> int:
    """COPY ``rows`` in chunks, making the next chunk in a thread while the server takes one."""
    source = iter(rows)
    copied = 0
    with tqdm(total=total, desc=table, unit=" rows", unit_scale=True, disable=not progress) as bar:
        upcoming = asyncio.ensure_future(asyncio.to_thread(_take, source, CHUNK_ROWS))
        try:
            while chunk := await upcoming:
                upcoming = asyncio.ensure_future(asyncio.to_thread(_take, source, CHUNK_ROWS))
                await connection.copy_records_to_table(table, records=chunk, columns=columns)
                copied += len(chunk)
                bar.update(len(chunk))
        finally:
            # A failed COPY leaves the next chunk being made: let it finish and drop it.
            if not upcoming.done():
                await asyncio.wait([upcoming])
            if not upcoming.cancelled():
                upcoming.exception()
    return copied


def _take(rows: Iterator[Row], count: int) -> list[Row]:
    return list(islice(rows, count))


def _user_rows(world: World, password_hash: str) -> Iterator[Row]:
    yield (
        world.admin_user_id,
        ADMIN_EMAIL,
        password_hash,
        Role.ADMIN.value,
        True,
        world.admin_created_at,
    )
    for d in world.doctors:
        yield (d.user_id, d.email, password_hash, Role.DOCTOR.value, True, d.created_at)
    for p in world.patients:
        yield (p.user_id, p.email, password_hash, Role.PATIENT.value, True, p.created_at)


def _clinic_rows(world: World) -> Iterator[Row]:
    for c in world.clinics:
        yield (c.id, c.name, c.address, c.city.timezone, c.created_at)


def _doctor_rows(world: World) -> Iterator[Row]:
    for d in world.doctors:
        yield (d.id, d.user_id, d.name, d.specialty, d.created_at)


def _doctor_clinic_rows(world: World) -> Iterator[Row]:
    for doctor in world.doctors:
        for clinic in doctor.clinics:
            yield (doctor.id, world.clinics[clinic].id)


def _template_rows(world: World, seed: int) -> Iterator[Row]:
    rng = random.Random(f"medappt-scale:{seed}:templates")
    for doctor in world.doctors:
        # Set up on the doctor's first day.
        created_at = doctor.created_at + timedelta(hours=1)
        for weekday in WEEKDAYS:
            clinic_id = world.clinics[doctor.clinic_on(weekday)].id
            for start, end in doctor.day_shape:
                yield (
                    scale_uuid(created_at, rng),
                    doctor.id,
                    clinic_id,
                    weekday,
                    start,
                    end,
                    doctor.slot_minutes,
                    created_at,
                )


def _patient_rows(world: World) -> Iterator[Row]:
    for p in world.patients:
        yield (
            p.id,
            p.user_id,
            p.name,
            p.date_of_birth,
            p.phone,
            p.sms_opt_in,
            p.email_opt_in,
            p.created_at,
        )
