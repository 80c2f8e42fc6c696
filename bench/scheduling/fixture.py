"""What the bench reads from the ``medappt seed-scale`` database before it starts: doctors,
patients, the working days ahead, and which processes to count CPU for."""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

HORIZON_DAYS = 90


@dataclass(frozen=True, slots=True)
class Patient:
    id: uuid.UUID
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Fixture:
    doctors: list[uuid.UUID]
    patients: list[Patient]  # shuffled; each booking takes the next one
    days: list[date]  # working days (Monday to Friday) from the day after tomorrow on
    postgres_pid: int
    database: str
    redis_pid: int

    def doctor_days(self, rng: random.Random) -> list[tuple[uuid.UUID, date]]:
        pairs = [(doctor, day) for doctor in self.doctors for day in self.days]
        rng.shuffle(pairs)
        return pairs


async def _postmaster_pid(connection: asyncpg.Connection) -> int:
    """The PostgreSQL server's pid, if it runs here and we may read its data directory."""
    try:
        data_directory = await connection.fetchval("SHOW data_directory")
        first_line = (Path(data_directory) / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first_line)
    except (asyncpg.PostgresError, OSError, ValueError):
        return 0


async def load_fixture(database_url: str, redis: Redis, rng: random.Random) -> Fixture:
    connection = await asyncpg.connect(database_url)
    try:
        doctors = [
            row["id"] for row in await connection.fetch("SELECT id FROM doctors ORDER BY id")
        ]
        rows = await connection.fetch(
            "SELECT p.id, p.user_id FROM patients p JOIN users u ON u.id = p.user_id"
            " WHERE u.is_active ORDER BY p.id"
        )
        postgres_pid = await _postmaster_pid(connection)
        database = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()
    patients = [Patient(row["id"], row["user_id"]) for row in rows]
    rng.shuffle(patients)
    first = datetime.now(UTC).date() + timedelta(days=2)
    days = [first + timedelta(days=n) for n in range(HORIZON_DAYS)]
    redis_info = await redis.info("server")
    return Fixture(
        doctors=doctors,
        patients=patients,
        days=[day for day in days if day.isoweekday() <= 5],
        postgres_pid=postgres_pid,
        database=database,
        redis_pid=int(redis_info.get("process_id", 0)),
    )
