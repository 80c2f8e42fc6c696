"""The `medappt` command, run as a newcomer would run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Doctor, Patient, User
from medappt.cli import _parser
from services.passwords import verify_password
from tests.support.servers import Servers

ROOT = Path(__file__).resolve().parent.parent
MEDAPPT = [sys.executable, "-m", "medappt"]


def medappt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("MEDAPPT_")}
    for name in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL", "S3_BUCKET"):
        base.pop(name, None)
    return subprocess.run(
        [*MEDAPPT, *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_export_schema_matches_the_committed_schema_graphql() -> None:
    exported = medappt("export-schema")

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == (ROOT / "schema.graphql").read_text(), (
        "schema.graphql is stale: run `medappt export-schema > schema.graphql`"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDAPPT_ENV": "prod"}, "medappt serve: DATABASE_URL is not set"),
        (
            {"MEDAPPT_ENV": "prod", "DATABASE_URL": "postgresql://db/medappt"},
            "medappt serve: REDIS_URL is not set",
        ),
        (
            {
                "MEDAPPT_ENV": "prod",
                "DATABASE_URL": "postgresql://db/medappt",
                "REDIS_URL": "redis://cache:6379/0",
            },
            "medappt serve: S3_BUCKET is not set",
        ),
        (
            {"MEDAPPT_ENV": "staging"},
            "medappt serve: MEDAPPT_ENV must be 'dev' or 'prod', not 'staging'",
        ),
        (
            {"DATABASE_URL": "mysql://db/medappt"},
            "medappt serve: DATABASE_URL must start with postgresql:// or postgresql+asyncpg://",
        ),
        (
            {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "secret"},
            "medappt serve: TWILIO_FROM is not set (SMS through Twilio needs TWILIO_ACCOUNT_SID,"
            " TWILIO_AUTH_TOKEN, TWILIO_FROM)",
        ),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(env: dict[str, str], message: str) -> None:
    result = medappt("serve", "--port", "1", env=env)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == message + "\n"


def test_migrate_without_a_database_url_names_it() -> None:
    result = medappt("migrate")

    assert (result.returncode, result.stderr) == (1, "medappt migrate: DATABASE_URL is not set\n")


async def _users(sessions: async_sessionmaker[AsyncSession]) -> list[User]:
    async with sessions() as session:
        return list((await session.scalars(select(User).order_by(User.email))).all())


async def test_create_user_makes_the_user_and_its_profile(
    sessions: async_sessionmaker[AsyncSession], migrated: Servers
) -> None:
    env = {"DATABASE_URL": migrated.database_url}

    doctor = medappt(
        "create-user", "--email", "Ada@Clinic.Example", "--password", "correct horse",
        "--role", "doctor", "--name", "Dr. Ada", "--specialty", "Neurology", env=env,
    )  # fmt: skip
    patient = medappt(
        "create-user", "--email", "pat@example.test", "--password", "battery staple",
        "--role", "patient", "--name", "Pat", "--date-of-birth", "1990-05-06", env=env,
    )  # fmt: skip

    assert (doctor.returncode, patient.returncode) == (0, 0), doctor.stderr + patient.stderr
    users = await _users(sessions)
    assert [(u.email, u.role) for u in users] == [
        ("Ada@clinic.example", Role.DOCTOR),
        ("pat@example.test", Role.PATIENT),
    ]
    assert doctor.stdout == f"created doctor Ada@clinic.example ({users[0].id})\n"
    assert await verify_password(users[0].password_hash, "correct horse")
    async with sessions() as session:
        profile = await session.scalar(select(Doctor).where(Doctor.user_id == users[0].id))
        patient_profile = await session.scalar(
            select(Patient).where(Patient.user_id == users[1].id)
        )
    assert profile is not None
    assert (profile.name, profile.specialty) == ("Dr. Ada", "Neurology")
    assert patient_profile is not None
    assert (patient_profile.name, str(patient_profile.date_of_birth)) == ("Pat", "1990-05-06")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--email", "ADA@clinic.example", "--password", "another pass", "--role", "admin"],
            "medappt create-user: A user with e-mail ADA@clinic.example already exists.\n",
        ),
        (
            ["--email", "new@clinic.example", "--password", "short", "--role", "admin"],
            "medappt create-user: The password must have 8 to 256 characters.\n",
        ),
        (
            ["--email", "not-an-email", "--password", "long enough", "--role", "admin"],
            "medappt create-user: 'not-an-email' is not a valid e-mail address.\n",
        ),
    ],
)
async def test_create_user_refusals_leave_nothing_behind(
    sessions: async_sessionmaker[AsyncSession], migrated: Servers, args: list[str], message: str
) -> None:
    env = {"DATABASE_URL": migrated.database_url}
    first = medappt(
        "create-user", "--email", "ada@clinic.example", "--password", "correct horse",
        "--role", "doctor", "--name", "Dr. Ada", env=env,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr

    refused = medappt("create-user", *args, "--name", "Someone", env=env)

    assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", message)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(select(func.count()).select_from(Doctor)) == 1


def test_create_user_rejects_an_unknown_role() -> None:
    result = medappt(
        "create-user", "--email", "x@example.test", "--password", "long enough",
        "--role", "nurse", "--name", "X",
    )  # fmt: skip

    assert result.returncode == 2
    assert "argument --role: invalid choice: 'nurse'" in result.stderr


def test_serve_runs_one_process_per_usable_core_unless_told() -> None:
    assert _parser().parse_args(["serve"]).workers == len(os.sched_getaffinity(0))
    assert _parser().parse_args(["serve", "--workers", "1"]).workers == 1
