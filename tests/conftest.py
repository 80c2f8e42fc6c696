import dataclasses
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import db.models  # noqa: F401  (registers every table)
from db.base import Base
from db.engine import create_engine, session_factory
from db.migrate import upgrade_async
from domain.clock import clock
from services.settings import Settings, load_settings
from services.storage import ensure_bucket, s3_client
from tests.support.api import serving
from tests.support.calendar import CALENDAR_INSTANTS
from tests.support.providers import FakeSendGrid, FakeTwilio, sendgrid_server, twilio_server
from tests.support.servers import TEST_DATABASE, Servers, recreate_database, running_servers
from tests.support.worker import with_providers

# `./scripts/test -m fuzz --hypothesis-profile=long`: many more generated operations
# than the default profile's hundred a test (tests/test_fuzz.py).
hypothesis_settings.register_profile("long", max_examples=2500)

_OWN_BASETEMP_PREFIX = os.path.join(tempfile.gettempdir(), "medappt-tests-")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: generated operations sent to the API")
    if config.option.basetemp is None:
        # A directory of this run's own. Each pytest run resets the shared
        # /tmp/pytest-of-<user> to mode 0700; the embedded PostgreSQL runs as another
        # OS user, so a second run started on the machine cut the first one's server
        # off its data directory (PANIC: pg_control: Permission denied).
        config.option.basetemp = tempfile.mkdtemp(prefix=os.path.basename(_OWN_BASETEMP_PREFIX))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Kept after a failure, to be looked at; the path is in the failures' output.
    if exitstatus == 0 and session.config.option.basetemp.startswith(_OWN_BASETEMP_PREFIX):
        shutil.rmtree(session.config.option.basetemp, ignore_errors=True)


@pytest.fixture(params=CALENDAR_INSTANTS)
def calendar_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """The test runs as if it were this instant, by the domain's clock."""
    instant: datetime = request.param
    with clock.travel_to(instant):
        yield instant


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with running_servers(Path(tmp_path_factory.mktemp("servers"))) as running:
        yield running


@pytest.fixture(scope="session")
async def migrated(servers: Servers) -> Servers:
    await recreate_database(servers.admin_database_url, TEST_DATABASE)
    await upgrade_async(servers.database_url)
    return servers


@pytest.fixture(scope="session")
def settings(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # MEDAPPT_EXECUTOR=standard runs the suite on graphql-core's own executor.
    chosen = {name: os.environ[name] for name in ("MEDAPPT_EXECUTOR",) if name in os.environ}
    configured = load_settings(chosen).with_servers(
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        s3_endpoint_url=servers.s3_endpoint_url,
    )
    return dataclasses.replace(
        configured, s3_bucket=servers.s3_bucket, data_dir=tmp_path_factory.mktemp("data")
    )


@pytest.fixture(scope="session")
async def engine(migrated: Servers) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated.database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def redis(servers: Servers) -> AsyncIterator[Redis]:
    client = Redis.from_url(servers.redis_url)
    yield client
    await client.aclose()


_TABLES = ", ".join(table.name for table in Base.metadata.sorted_tables)


@pytest.fixture
async def sessions(engine: AsyncEngine, redis: Redis) -> async_sessionmaker[AsyncSession]:
    """A clean database and Redis for each test that touches them."""
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
    await redis.flushdb()
    return session_factory(engine)


@pytest.fixture(scope="session")
async def api_url(settings: Settings, migrated: Servers) -> AsyncIterator[str]:
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, settings.s3_bucket)
    async with serving(settings) as url:
        yield url


@pytest.fixture
async def client(
    api_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        yield http


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with twilio_server() as server:
        yield server


@pytest.fixture
async def sendgrid() -> AsyncIterator[FakeSendGrid]:
    async with sendgrid_server() as server:
        yield server


@pytest.fixture
def worker_settings(settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid) -> Settings:
    """The test's settings with the fake providers, for a worker."""
    return with_providers(settings, twilio, sendgrid)
