"""The scale data set, seeded small: exact counts, valid bookings, refusal of a second run."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.enums import AppointmentStatus
from db.migrate import upgrade_async
from devtools.scale import SCALE_PASSWORD, ScaleSeedRefused, ScaleSummary, seed_scale
from devtools.scale.bookings import Planner
from devtools.scale.world import build_world
from services.passwords import verify_password
from tests.support.servers import Servers, drop_database, recreate_database, with_database

SCALE_DATABASE = "medappt_scale_test"

# Doctors 6, 9, 12, 15 and 18 also work at a second clinic (every third beyond the first
# doctor of each clinic); each doctor has a morning and an afternoon block Monday to Friday.
TABLE_COUNTS = {
    "users": 1 + 20 + 500,
    "clinics": 4,
    "doctors": 20,
    "doctor_clinics": 25,
    "schedule_templates": 20 * 5 * 2,
    "patients": 500,
    "appointments": 3000,
}


async def _seed(database_url: str) -> ScaleSummary:
    return await seed_scale(
        database_url,
        doctors=20,
        patients=500,
        appointments=3000,
        clinics=4,
        seed=7,
        progress=False,
    )


@pytest.fixture(scope="module")
async def scale_url(servers: Servers) -> AsyncIterator[str]:
    await recreate_database(servers.admin_database_url, SCALE_DATABASE)
    database_url = with_database(servers.admin_database_url, SCALE_DATABASE)
    await upgrade_async(database_url)
    yield database_url
    await drop_database(servers.admin_database_url, SCALE_DATABASE)


@pytest.fixture(scope="module")
async def seeded(scale_url: str) -> tuple[datetime, ScaleSummary]:
    """When the seeding started, and what it reported."""
    before = datetime.now(UTC)
    summary = await _seed(scale_url)
    return before, summary


@pytest.fixture(scope="module")
async def scale_engine(
    scale_url: str, seeded: tuple[datetime, ScaleSummary]
) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(scale_url, pool_size=2)
    yield engine
    await engine.dispose()


async def _scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as connection:
        return await connection.scalar(text(sql), params)


async def _table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table: (await connection.scalar(text(f"SELECT count(*) FROM {table}"))) or 0
            for table in [*TABLE_COUNTS, "medical_records"]
        }


async def test_summary_and_tables_hold_the_exact_counts(
    seeded: tuple[datetime, ScaleSummary], scale_engine: AsyncEngine
) -> None:
    _, summary = seeded
    counts = await _table_counts(scale_engine)
    records = counts.pop("medical_records")
    assert counts == TABLE_COUNTS
    assert summary == ScaleSummary(
        **TABLE_COUNTS, medical_records=records, elapsed_seconds=summary.elapsed_seconds
    )
    assert summary.elapsed_seconds > 0
    # About one completed visit in five leaves a document.
    completed = await _scalar(
        scale_engine, "SELECT count(*) FROM appointments WHERE status = 'COMPLETED'"
    )
    assert isinstance(completed, int)
    assert 0.1 * completed < records < 0.3 * completed


@pytest.mark.parametrize("owner", ["doctor_id", "patient_id"])
async def test_no_two_appointments_of_one_person_overlap(
    scale_engine: AsyncEngine, owner: str
) -> None:
    # Stricter than the exclusion constraints, which look at SCHEDULED ones only.
    overlapping = await _scalar(
        scale_engine,
        f"""
        SELECT count(*) FROM appointments a JOIN appointments b
          ON a.{owner} = b.{owner} AND a.id < b.id
         AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        """,
    )
    assert overlapping == 0
    scheduled_overlapping = await _scalar(
        scale_engine,
        f"""
        SELECT count(*) FROM appointments a JOIN appointments b
          ON a.{owner} = b.{owner} AND a.id < b.id
         AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE a.status = 'SCHEDULED' AND b.status = 'SCHEDULED'
        """,
    )
    assert scheduled_overlapping == 0


async def test_every_appointment_is_a_template_slot(scale_engine: AsyncEngine) -> None:
    off_template = await _scalar(
        scale_engine,
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
        """,
    )
    assert off_template == 0


async def test_templates_of_a_doctor_never_overlap_and_cover_monday_to_friday(
    scale_engine: AsyncEngine,
) -> None:
    async with scale_engine.connect() as connection:
        per_doctor = (
            await connection.execute(
                text(
                    """
                    SELECT doctor_id, array_agg(DISTINCT day_of_week ORDER BY day_of_week),
                           count(DISTINCT clinic_id), count(DISTINCT slot_minutes)
                    FROM schedule_templates GROUP BY doctor_id
                    """
                )
            )
        ).all()
    assert len(per_doctor) == TABLE_COUNTS["doctors"]
    for _, days, clinics, slot_lengths in per_doctor:
        assert days == [1, 2, 3, 4, 5]
        assert clinics in {1, 2}
        assert slot_lengths == 1
    # The exclusion constraint guards this; check that it is what the data does too.
    overlapping = await _scalar(
        scale_engine,
        """
        SELECT count(*) FROM schedule_templates a JOIN schedule_templates b
          ON a.doctor_id = b.doctor_id AND a.day_of_week = b.day_of_week AND a.id < b.id
         AND a.start_time < b.end_time AND b.start_time < a.end_time
        """,
    )
    assert overlapping == 0


async def test_future_appointments_are_scheduled_and_past_ones_are_not(
    seeded: tuple[datetime, ScaleSummary], scale_engine: AsyncEngine
) -> None:
    before, _ = seeded
    async with scale_engine.connect() as connection:
        future = (
            await connection.execute(
                text("SELECT DISTINCT status FROM appointments WHERE starts_at > now()")
            )
        ).scalars()
        assert set(future) == {AppointmentStatus.SCHEDULED.value}
        past = (
            await connection.execute(
                text("SELECT status, count(*) FROM appointments WHERE ends_at <= :t GROUP BY 1"),
                {"t": before},
            )
        ).all()
    statuses: dict[str, int] = dict(past)
    assert set(statuses) == {"COMPLETED", "CANCELLED", "NO_SHOW"}
    assert statuses["COMPLETED"] > 0.75 * sum(statuses.values())
    # The CHECK holds it too: exactly the cancelled ones carry a cancellation time.
    mismatched = await _scalar(
        scale_engine,
        "SELECT count(*) FROM appointments WHERE (status = 'CANCELLED') <> "
        "(cancelled_at IS NOT NULL AND cancellation_reason IS NOT NULL)",
    )
    assert mismatched == 0


async def test_appointments_span_the_past_year_and_the_next_three_months(
    seeded: tuple[datetime, ScaleSummary], scale_engine: AsyncEngine
) -> None:
    before, _ = seeded
    async with scale_engine.connect() as connection:
        first, last, zones = (
            await connection.execute(
                text(
                    "SELECT min(a.starts_at), max(a.starts_at), count(DISTINCT c.timezone) "
                    "FROM appointments a JOIN clinics c ON c.id = a.clinic_id"
                )
            )
        ).one()
    assert before - timedelta(days=367) < first < before - timedelta(days=350)
    assert before + timedelta(days=60) < last < datetime.now(UTC) + timedelta(days=93)
    assert zones == 4
    # Bookings are made before the appointment, by its patient, after the patient joined.
    misplaced = await _scalar(
        scale_engine,
        """
        SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id
        WHERE a.created_at >= a.starts_at OR a.created_at > now()
           OR a.created_at < p.created_at OR a.booked_by_user_id <> p.user_id
        """,
    )
    assert misplaced == 0


async def test_records_follow_completed_visits(scale_engine: AsyncEngine) -> None:
    orphans = await _scalar(
        scale_engine,
        """
        SELECT count(*) FROM medical_records r
        WHERE r.status <> 'AVAILABLE' OR r.uploaded_at > now()
           OR r.s3_key <> 'patients/' || r.patient_id || '/' || r.id || '/' || r.file_name
           OR NOT EXISTS (
             SELECT 1 FROM appointments a
             WHERE a.patient_id = r.patient_id AND a.doctor_id = r.doctor_id
               AND a.status = 'COMPLETED' AND a.ends_at <= r.uploaded_at
           )
        """,
    )
    assert orphans == 0


async def test_every_user_signs_in_with_the_one_shared_password(
    scale_engine: AsyncEngine,
) -> None:
    async with scale_engine.connect() as connection:
        hashes = (await connection.execute(text("SELECT DISTINCT password_hash FROM users"))).all()
        roles: dict[str, int] = dict(
            (await connection.execute(text("SELECT role, count(*) FROM users GROUP BY 1"))).all()
        )
    assert len(hashes) == 1
    assert await verify_password(hashes[0][0], SCALE_PASSWORD)
    assert roles == {"ADMIN": 1, "DOCTOR": 20, "PATIENT": 500}


async def test_a_second_run_is_refused_and_writes_nothing(
    scale_url: str, scale_engine: AsyncEngine
) -> None:
    counts = await _table_counts(scale_engine)
    with pytest.raises(ScaleSeedRefused) as refused:
        await _seed(scale_url)
    assert str(refused.value) == (
        "refusing to seed: the database already holds the scale data set "
        "(admin@scale.medappt.dev exists); seed_scale runs once, into a freshly migrated database"
    )
    assert await _table_counts(scale_engine) == counts


async def test_an_unmigrated_database_is_refused(servers: Servers) -> None:
    with pytest.raises(ScaleSeedRefused) as refused:
        await seed_scale(
            servers.admin_database_url, progress=False, doctors=2, patients=2, clinics=1
        )
    assert str(refused.value) == (
        "refusing to seed: the database has no appointments table; run `medappt migrate`"
    )


async def test_a_run_that_fails_part_way_leaves_nothing_behind(servers: Servers) -> None:
    name = "medappt_scale_rollback_test"
    await recreate_database(servers.admin_database_url, name)
    database_url = with_database(servers.admin_database_url, name)
    try:
        await upgrade_async(database_url)
        # Users, doctors and patients go in before the appointments run out of slots.
        with pytest.raises(ValueError, match="no free template slot left"):
            await seed_scale(
                database_url,
                doctors=1,
                patients=5000,
                appointments=200_000,
                clinics=1,
                progress=False,
            )
        engine = create_engine(database_url, pool_size=1)
        try:
            assert set((await _table_counts(engine)).values()) == {0}
        finally:
            await engine.dispose()
    finally:
        await drop_database(servers.admin_database_url, name)


def test_the_same_seed_and_time_give_the_same_rows() -> None:
    now = datetime(2025, 3, 30, 12, tzinfo=UTC)  # the day Europe moves its clocks forward

    def rows(seed: int) -> list[tuple[object, ...]]:
        world = build_world(doctors=6, patients=40, clinics=3, seed=seed, now=now)
        planner = Planner(world, appointments=300, seed=seed, now=now)
        return [*planner.appointment_rows(), *planner.record_rows]

    assert rows(1) == rows(1)
    assert rows(1) != rows(2)


def test_more_appointments_than_slots_are_refused() -> None:
    now = datetime(2025, 6, 2, 12, tzinfo=UTC)
    world = build_world(doctors=1, patients=5000, clinics=1, seed=1, now=now)
    planner = Planner(world, appointments=200_000, seed=1, now=now)
    with pytest.raises(ValueError, match="no free template slot left"):
        list(planner.appointment_rows())


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ({"doctors": 3, "clinics": 4}, "doctors must be at least clinics"),
        ({"clinics": 0}, "clinics must be at least 1"),
        ({"patients": 0}, "patients must be at least 1"),
    ],
)
def test_impossible_sizes_are_refused(size: dict[str, int], message: str) -> None:
    arguments = {"doctors": 5, "patients": 5, "clinics": 2, "seed": 1} | size
    with pytest.raises(ValueError, match=message):
        build_world(now=datetime.now(UTC), **arguments)
