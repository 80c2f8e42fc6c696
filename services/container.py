"""The long-lived clients one process shares across requests."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from services.auth.tokens import TokenService
from services.clinic_directory import ClinicDirectory
from services.document_store import DocumentStore
from services.documents import DocumentLinks
from services.metrics import observed_pool
from services.redis_pool import redis_client
from services.s3_spans import trace_s3
from services.server_health import ServerHealth, monitored
from services.settings import Settings
from services.slot_cache import SlotCache
from services.slot_feed import SlotFeed
from services.storage import s3_client
from services.tracing import trace_engine, trace_redis, tracer_of

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
    # Slot changes from every process, for this one's subscriptions: one connection.
    slot_feed: SlotFeed
    clinics: ClinicDirectory
    # Whether PostgreSQL and Redis answer (/ready), probed in the background.
    health: ServerHealth
    # Spans of GraphQL operations; None when traces are not exported.
    tracer: Tracer | None


@asynccontextmanager
async def open_services(
    settings: Settings, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[Services]:
    database_url = settings.require_database_url()
    redis_url = settings.require_redis_url()
    tokens = TokenService.from_settings(settings)
    async with AsyncExitStack() as stack:
        health = await stack.enter_async_context(monitored(database_url, redis_url))
        # Each role its own timeouts: requests are short, reports long on purpose.
        engine = create_engine(
            database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # Waiting longer for a connection than a request may take helps nobody.
            pool_timeout_s=settings.request_timeout_s,
            statement_timeout_ms=settings.statement_timeout_ms,
            lock_timeout_ms=settings.lock_timeout_ms,
            idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
            gate=health.require_database,
        )
        stack.push_async_callback(engine.dispose)
        analytics_engine = create_engine(
            settings.analytics_database_url or database_url,
            read_only=True,
            pool_size=5,
            statement_timeout_ms=settings.analytics_statement_timeout_ms,
            lock_timeout_ms=settings.lock_timeout_ms,
            idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
        )
        stack.push_async_callback(analytics_engine.dispose)
        stack.enter_context(observed_pool(engine, "primary"))
        stack.enter_context(observed_pool(analytics_engine, "analytics"))
        redis = redis_client(
            redis_url,
            max_connections=settings.redis_max_connections,
            timeout_ms=settings.redis_timeout_ms,
            gate=health.require_redis,
        )
        stack.push_async_callback(redis.aclose)
        if tracer_provider is not None:
            trace_engine(engine, tracer_provider)
            trace_engine(analytics_engine, tracer_provider)
            trace_redis(redis, tracer_provider)
        s3 = await stack.enter_async_context(s3_client(settings))
        if tracer_provider is not None:
            trace_s3(s3, tracer_provider)
        sessions = session_factory(engine)
        slot_feed = SlotFeed(redis_url, timeout_s=settings.redis_timeout_ms / 1000)
        stack.push_async_callback(slot_feed.close)
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
            slot_feed=slot_feed,
            clinics=ClinicDirectory(sessions),
            health=health,
            tracer=None if tracer_provider is None else tracer_of(tracer_provider),
        )
