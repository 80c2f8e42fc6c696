"""Engines and session factories for the primary database and its read replica."""

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_url(url: str) -> str:
    """Accept the contract's ``postgresql://`` form and use asyncpg for it."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    raise ValueError("not a PostgreSQL URL")


def create_engine(
    url: str,
    *,
    read_only: bool = False,
    pool_size: int = 10,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    server_settings = {}
    if statement_timeout_ms is not None:
        # Set as each connection opens, so it holds for every statement on it.
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    engine = create_async_engine(
        async_url(url),
        connect_args={"server_settings": server_settings},
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # Long-lived API processes: recycle before typical proxy idle timeouts.
        pool_recycle=1800,
        # Parameters are patients' data: keep them out of error messages and logs.
        hide_parameters=True,
    )
    if read_only:
        # Reports may run on the primary when no replica is configured: make
        # sure they can never write there.
        @event.listens_for(engine.sync_engine, "begin")
        def _read_only(connection: Connection) -> None:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
