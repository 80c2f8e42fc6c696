"""The servers a test run talks to: given by URL, or embedded ones started once per run."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from db.engine import async_url
from devtools.embedded import EmbeddedStack

TEST_DATABASE = "medappt_test"
# On a Redis that someone gave us, keep to a database index of our own.
TEST_REDIS_DB = 13


@dataclass(frozen=True, slots=True)
class Servers:
    database_url: str  # the test database, migrated
    admin_database_url: str  # the server's maintenance database, to create others
    redis_url: str
    s3_endpoint_url: str
    s3_bucket: str


@contextmanager
def running_servers(tmp_dir: Path) -> Iterator[Servers]:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    s3_endpoint_url = os.environ.get("S3_ENDPOINT_URL")
    with EmbeddedStack(
        tmp_dir,
        postgres=not database_url,
        redis=not redis_url,
        s3=not s3_endpoint_url,
        durable=False,
    ) as stack:
        server_url = async_url(database_url or stack.database_url or "")
        redis = redis_url or stack.redis_url or ""
        if redis_url:
            redis = make_url(redis_url).set(database=str(TEST_REDIS_DB)).render_as_string(False)
        yield Servers(
            database_url=with_database(server_url, TEST_DATABASE),
            admin_database_url=with_database(server_url, "postgres"),
            redis_url=redis,
            s3_endpoint_url=s3_endpoint_url or stack.s3_endpoint_url or "",
            s3_bucket=f"medappt-test-{secrets.token_hex(4)}",
        )


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    """asyncpg wants postgresql:// without the SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def recreate_database(admin_database_url: str, name: str) -> None:
    connection = await asyncpg.connect(plain_dsn(admin_database_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(admin_database_url: str, name: str) -> None:
    connection = await asyncpg.connect(plain_dsn(admin_database_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
