"""The long-lived clients one process shares across requests."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from medappt.auth.tokens import TokenService
from medappt.clinic_directory import ClinicDirectory
from medappt.document_store import DocumentStore
from medappt.documents import DocumentLinks
from medappt.settings import Settings
from medappt.slot_cache import SlotCache
from medappt.storage import s3_client

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Reports read from the replica (or the primary, read-only).
    analytics_sessions: async_sessionmaker[AsyncSession]
    redis: "Redis"
    s3: "S3Client"
    tokens: TokenService
    documents: DocumentLinks
    document_store: DocumentStore
    slot_cache: SlotCache
    clinics: ClinicDirectory


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    database_url = settings.require_database_url()
    redis_url = settings.require_redis_url()
    tokens = TokenService.from_settings(settings)
    async with AsyncExitStack() as stack:
        engine = create_engine(database_url)
        stack.push_async_callback(engine.dispose)
        analytics_engine = create_engine(
            settings.analytics_database_url or database_url,
            read_only=True,
            pool_size=5,
            statement_timeout_ms=settings.analytics_statement_timeout_ms,
        )
        stack.push_async_callback(analytics_engine.dispose)
        redis = Redis.from_url(redis_url, decode_responses=False)
        stack.push_async_callback(redis.aclose)
        s3 = await stack.enter_async_context(s3_client(settings))
        sessions = session_factory(engine)
        yield Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            analytics_sessions=session_factory(analytics_engine),
            redis=redis,
            s3=s3,
            tokens=tokens,
            documents=DocumentLinks(s3, settings.s3_bucket, settings.document_url_seconds),
            document_store=DocumentStore(s3, settings.s3_bucket),
            slot_cache=SlotCache(redis),
            clinics=ClinicDirectory(sessions),
        )
