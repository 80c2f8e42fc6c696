"""Migrations from an empty database to head and back, and their agreement with the models."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import db.models  # noqa: F401  (registers every table)
from db.base import Base
from db.migrate import downgrade, upgrade_async
from tests.support.servers import (
    Servers,
    drop_database,
    plain_dsn,
    recreate_database,
    with_database,
)

SCRATCH = "medappt_migration_test"
TABLES = {
    "account_tokens",
    "appointments",
    "audit_log",
    "clinics",
    "doctor_clinics",
    "doctors",
    "medical_records",
    "notifications",
    "outbox",
    "patients",
    "refresh_token_families",
    "refresh_tokens",
    "schedule_exceptions",
    "schedule_templates",
    "slot_claims",
    "slot_holds",
    "users",
    "waitlist_entries",
}


@pytest.fixture
async def scratch_url(servers: Servers) -> AsyncIterator[str]:
    await recreate_database(servers.admin_database_url, SCRATCH)
    yield with_database(servers.admin_database_url, SCRATCH)
    await drop_database(servers.admin_database_url, SCRATCH)


async def _tables_and_constraints(url: str) -> tuple[set[str], set[str]]:
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        tables = {
            row["tablename"]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        exclusions = {
            row["conname"]
            for row in await connection.fetch(
                "SELECT conname FROM pg_constraint WHERE contype = 'x'"
            )
        }
    finally:
        await connection.close()
    return tables, exclusions


async def test_upgrade_from_empty_then_downgrade_to_nothing(scratch_url: str) -> None:
    await upgrade_async(scratch_url)
    tables, exclusions = await _tables_and_constraints(scratch_url)
    assert tables == TABLES | {"alembic_version"}
    assert exclusions == {
        "ex_appointments_doctor_no_overlap",
        "ex_appointments_patient_no_overlap",
        "ex_schedule_templates_no_overlap",
        "ex_slot_claims_doctor_no_overlap",
    }

    # Alembic's env.py runs its own event loop: keep it off this one.
    await asyncio.to_thread(downgrade, scratch_url)
    assert await _tables_and_constraints(scratch_url) == ({"alembic_version"}, set())

    # And up again: the downgrade left nothing that blocks a fresh upgrade.
    await upgrade_async(scratch_url)
    assert (await _tables_and_constraints(scratch_url))[0] == TABLES | {"alembic_version"}


async def test_migrations_match_the_models(scratch_url: str) -> None:
    await upgrade_async(scratch_url)
    engine = create_async_engine(scratch_url, poolclass=NullPool)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()
