"""Engines and session factories for the primary database and its read replica."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection

# A server that takes longer than this to accept a connection is as good as down.
CONNECT_TIMEOUT_SECONDS = 5.0


class GatedPool(AsyncAdaptedQueuePool):
    """A pool that asks ``gate`` before every checkout: while the database is known to
    be down, the gate raises at once instead of letting the request wait on a
    connection that cannot answer."""

    gate: Callable[[], None] | None = None

    def connect(self) -> PoolProxiedConnection:
        if self.gate is not None:
            self.gate()
        return super().connect()

    def recreate(self) -> "GatedPool":
        pool = super().recreate()
        assert isinstance(pool, GatedPool)
        pool.gate = self.gate
        return pool


def async_url(url: str) -> str:
    """Accept the contract's ``postgresql://`` form and use asyncpg for it."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    raise ValueError("not a PostgreSQL URL")


def asyncpg_dsn(url: str) -> str:
    """The URL as asyncpg itself takes it (``postgresql://``)."""
    return "postgresql://" + async_url(url).removeprefix("postgresql+asyncpg://")


def create_engine(
    url: str,
    *,
    read_only: bool = False,
    pool_size: int = 10,
    max_overflow: int | None = None,
    pool_timeout_s: float = 30.0,
    statement_timeout_ms: int | None = None,
    lock_timeout_ms: int | None = None,
    idle_in_transaction_timeout_ms: int | None = None,
    gate: Callable[[], None] | None = None,
) -> AsyncEngine:
    # Set as each connection opens, so they hold for every statement on it. Behind
    # PgBouncer in transaction mode set them on the database role instead
    # (docs/deployment.md): it does not pass these start-up parameters on.
    timeouts = {
        "statement_timeout": statement_timeout_ms,
        "lock_timeout": lock_timeout_ms,
        "idle_in_transaction_session_timeout": idle_in_transaction_timeout_ms,
    }
    server_settings = {name: str(value) for name, value in timeouts.items() if value is not None}
    connect_args: dict[str, Any] = {
        "server_settings": server_settings,
        "timeout": CONNECT_TIMEOUT_SECONDS,
    }
    engine = create_async_engine(
        async_url(url),
        connect_args=connect_args,
        poolclass=GatedPool,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout_s,
        # No pre-ping (BEGIN, a statement and ROLLBACK at every checkout): a connection
        # the server closed is noticed at checkout below, without a round trip.
        pool_pre_ping=False,
        # Long-lived API processes: recycle before typical proxy idle timeouts.
        pool_recycle=1800,
        # Parameters are patients' data: keep them out of error messages and logs.
        hide_parameters=True,
    )
    pool = engine.sync_engine.pool
    assert isinstance(pool, GatedPool)
    pool.gate = gate
    event.listen(pool, "checkout", _refuse_closed)
    if read_only:
        # Reports may run on the primary when no replica is configured: make
        # sure they can never write there.
        @event.listens_for(engine.sync_engine, "begin")
        def _read_only(connection: Connection) -> None:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


def _refuse_closed(_: object, record: ConnectionPoolEntry, __: object) -> None:
    """A connection whose server went away (a restart, an idle timeout, a proxy) has
    already been told so by its socket: the pool then opens a new one instead."""
    driver_connection = record.driver_connection
    if driver_connection is not None and driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
